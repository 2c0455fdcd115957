"""Unique indexes for tranches: one (component, seq) per application; ordered tranche history."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T06:56:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "tranches: unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            [
                "CREATE UNIQUE INDEX IF NOT EXISTS tranches_application_component_seq "
                "ON tranches (application, component, seq)",
                "CREATE UNIQUE INDEX IF NOT EXISTS tranche_events_seq ON tranche_events (tranche, seq)",
            ]
        )
    )
    return manager
