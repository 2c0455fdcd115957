"""Returns to the state treasury are append-only like the ledger; one NTPN is recorded once."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw
from tkm.migrations.tkm_2026_12_01t16_23_54_000000 import _postgres_append_only, _sqlite_append_only

ID = "2026-12-01T17:23:51:000000"
VERSION = "1.38.0"
DESCRIPTION = "fund_returns: append-only"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            sqlite=_sqlite_append_only("fund_returns"),
            postgres=_postgres_append_only("fund_returns", "ledger_refuse_change"),
        )
    )
    return manager
