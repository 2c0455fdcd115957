"""The default office (Kemnaker, not a Disnaker) numbers its letters without "DISNAKER-" unless it chose to."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db

ID = "2026-12-01T19:47:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "offices: the default numbering pattern no longer assumes DISNAKER"

OLD = "{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}"
NEW = "{seq:03d}/{class}/{office}/{roman_month}/{year}"


async def default_pattern():
    # Values as parameters: QueryString reads every {} in a statement as a placeholder.
    await db.execute(
        "UPDATE offices SET numbering_pattern = {} WHERE code = {} AND numbering_pattern = {}", NEW, "PUSAT", OLD
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(default_pattern)
    return manager
