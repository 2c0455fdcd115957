"""Documents: the register's unique indexes, and a default issuing office so letters work out of the box."""

import datetime as dt
import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db
from tkm.core.migration_sql import raw

ID = "2026-11-29T06:24:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: unique indexes and the default office"


async def default_office():
    """Values go in as parameters: QueryString reads every ``{}`` in a statement as a placeholder."""
    if await db.fetch_one("SELECT id FROM offices WHERE is_default = {}", True):
        return
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await db.execute(
        "INSERT INTO offices (code, name, region, is_default, letterhead, address, contact, city, signatory_name, "
        "signatory_title, signatory_nip, signatories, numbering_pattern, kind_codes, version, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        "PUSAT",
        "Kementerian Ketenagakerjaan Republik Indonesia",
        "",
        True,
        json.dumps(
            [
                "KEMENTERIAN KETENAGAKERJAAN REPUBLIK INDONESIA",
                "DIREKTORAT JENDERAL PEMBINAAN PELATIHAN VOKASI DAN PRODUKTIVITAS",
            ]
        ),
        "Jalan Jenderal Gatot Subroto Kav. 51, Jakarta Selatan 12750",
        "",
        "Jakarta",
        "",
        "Pejabat Pembuat Komitmen",
        "",
        "{}",
        "{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}",
        "{}",
        1,
        now,
        now,
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            [
                "CREATE UNIQUE INDEX IF NOT EXISTS document_counters_office_kind_year "
                "ON document_counters (office, kind, year)",
                "CREATE UNIQUE INDEX IF NOT EXISTS documents_office_kind_year_seq ON documents (office, kind, year, seq)",
                "CREATE INDEX IF NOT EXISTS documents_status_updated ON documents (status, updated_at)",
                "CREATE UNIQUE INDEX IF NOT EXISTS offices_one_default ON offices (is_default) WHERE is_default = TRUE",
            ]
        )
    )
    manager.add_raw(default_office)
    return manager
