"""The month of each ledger transaction, and monthly activity per application kept beside the ledger.

``ledger_transactions.period`` is added empty for existing rows (their month comes from their report
or tranche, as before); ``ledger_activity`` is filled from the existing entries (tkm.ledger.activity).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db
from tkm.ledger.activity import rebuild_statements

ID = "2026-11-29T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: transaction period and monthly activity per application"


async def _step() -> None:
    await db.execute("ALTER TABLE ledger_transactions ADD COLUMN period VARCHAR(7) NULL")
    await db.execute(
        "CREATE TABLE IF NOT EXISTS ledger_activity ("
        "application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE RESTRICT, "
        "month VARCHAR(7) NOT NULL, name VARCHAR(30) NOT NULL, amount BIGINT NOT NULL DEFAULT 0, "
        "PRIMARY KEY (application_id, month, name))"
    )
    for statement in rebuild_statements(db.is_sqlite()):
        await db.execute(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(_step)
    return manager
