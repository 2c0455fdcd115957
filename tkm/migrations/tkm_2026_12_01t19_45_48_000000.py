"""Keyed chains: where the keyed links begin, and the audit trail made append-only like the history.

1. Links written before chains were keyed stay plain SHA-256: each existing chain's ``keyed_from`` becomes
   the next sequence number, so the links already there are checked as they were written and every new one
   is an HMAC with ``TKM_LEDGER_KEY``. Rehashing the old links instead would need the key here and would
   launder any change made before the upgrade; keeping them lets ``tkm verify`` still prove them, and the
   first keyed link (and every checkpoint) covers them. Runs once, as every migration (Piccolo records it).
2. History events of before keys have no hash: the ``history`` head's ``keyed_from`` is the first id that
   must carry one (1 on a new database).
3. ``audit_events`` refuses UPDATE, DELETE and TRUNCATE on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw
from tkm.migrations.tkm_2026_12_01t16_23_54_000000 import _postgres_append_only, _sqlite_append_only

ID = "2026-12-01T19:45:48:000000"
VERSION = "1.38.0"
DESCRIPTION = "chains: where keyed links begin; audit_events append-only"

KEYED_FROM = [
    "UPDATE chain_heads SET keyed_from = seq + 1",
    # WHERE true: SQLite needs it to read ON CONFLICT after INSERT ... SELECT.
    "INSERT INTO chain_heads (name, seq, last_hash, keyed_from) "
    "SELECT 'history', 0, '', COALESCE(MAX(id), 0) + 1 FROM history_events WHERE true "
    "ON CONFLICT (name) DO NOTHING",
]

AUDIT_SQLITE = _sqlite_append_only("audit_events")

AUDIT_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'The audit trail is only appended.';
    END
    $$
    """,
    *_postgres_append_only("audit_events", "audit_refuse_change"),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(raw(KEYED_FROM, sqlite=AUDIT_SQLITE, postgres=AUDIT_POSTGRES))
    return manager
