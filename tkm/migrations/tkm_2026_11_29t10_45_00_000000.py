"""Monthly activity per application kept beside the ledger (tkm.ledger.activity), filled from the entries.

Runs after ``ledger_transactions.period`` exists (previous migration); older transactions leave it empty
and take their month from their report or tranche.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db
from tkm.ledger.activity import rebuild_statements

ID = "2026-11-29T10:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: monthly activity per application"


async def _step() -> None:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS ledger_activity ("
        "application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE RESTRICT, "
        "month VARCHAR(7) NOT NULL, name VARCHAR(30) NOT NULL, amount BIGINT NOT NULL DEFAULT 0, "
        "PRIMARY KEY (application_id, month, name))"
    )
    # The rebuild of today's code: should the table's shape change later, freeze this SQL here first.
    for statement in rebuild_statements(db.is_sqlite()):
        await db.execute(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(_step)
    return manager
