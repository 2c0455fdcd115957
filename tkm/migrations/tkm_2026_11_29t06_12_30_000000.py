"""Unique indexes for groups and applications (Piccolo's Unique() fails on SQLite)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T06:12:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "groups and applications: unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            [
                "CREATE UNIQUE INDEX IF NOT EXISTS group_members_group_nik ON group_members (group_id, nik)",
                "CREATE UNIQUE INDEX IF NOT EXISTS application_events_seq ON application_events (application, seq)",
                "CREATE INDEX IF NOT EXISTS applications_programme_status ON applications (programme, status)",
            ]
        )
    )
    return manager
