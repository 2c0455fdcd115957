"""Interim: the one transition log of every flow (replaced by the squashed baseline)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db

ID = "2026-12-01T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "history_events"


async def _step() -> None:
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if db.is_sqlite() else "SERIAL PRIMARY KEY"
    stamp = "TIMESTAMPTZ"
    body = "JSON"
    await db.execute(
        f"CREATE TABLE IF NOT EXISTS history_events (id {serial}, record_kind VARCHAR(30) NOT NULL, "
        "record_id INTEGER NOT NULL, seq INTEGER NOT NULL, action VARCHAR(60) NOT NULL, "
        "from_state VARCHAR(40) NOT NULL DEFAULT '', to_state VARCHAR(40) NOT NULL DEFAULT '', "
        "actor INTEGER NULL REFERENCES users (id) ON DELETE RESTRICT, actor_name VARCHAR(200) NOT NULL DEFAULT '', "
        f"actor_role VARCHAR(20) NOT NULL DEFAULT '', at {stamp} NOT NULL, notes TEXT NOT NULL DEFAULT '', "
        f"body {body} NOT NULL DEFAULT '{{}}')"
    )
    await db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS history_events_record_seq ON history_events (record_kind, record_id, seq)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(_step)
    return manager
