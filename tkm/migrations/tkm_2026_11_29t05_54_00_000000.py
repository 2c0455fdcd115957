"""Indexes Piccolo cannot declare portably: a composite unique index for idempotency keys."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T05:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency key index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(["CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_user_key ON idempotency_keys (user_id, key)"])
    )
    return manager
