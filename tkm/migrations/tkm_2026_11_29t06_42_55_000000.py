"""Unique indexes for reports: one report per application and period; ordered review history."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T06:42:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "reports: unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            [
                "CREATE UNIQUE INDEX IF NOT EXISTS reports_application_period ON reports (application, period)",
                "CREATE UNIQUE INDEX IF NOT EXISTS report_events_seq ON report_events (report, seq)",
            ]
        )
    )
    return manager
