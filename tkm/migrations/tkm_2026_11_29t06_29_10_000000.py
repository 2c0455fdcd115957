"""Ledger: indexes, append-only triggers (both engines), deferred balance check (PostgreSQL).

A separate migration because Piccolo runs add_raw before add_table within one.
No braces in the SQL: statements go through Piccolo's QueryString.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T06:29:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: indexes, append-only and balance triggers"

TABLES = ("ledger_accounts", "ledger_transactions", "ledger_entries")

BOTH = [
    # One reversal per transaction, also under concurrency (NULLs are distinct on both engines).
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_transactions_reverses ON ledger_transactions (reverses)",
    # A funds trail is one index range; keyset pagination walks it in seq order.
    "CREATE INDEX IF NOT EXISTS ledger_entries_application_seq ON ledger_entries (application_id, seq)",
    "CREATE INDEX IF NOT EXISTS ledger_accounts_owner ON ledger_accounts (owner_kind, owner_id)",
]

SQLITE = [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    )
] + [
    "CREATE TRIGGER IF NOT EXISTS ledger_entries_nonzero BEFORE INSERT ON ledger_entries WHEN NEW.amount = 0 "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entries: an entry amount may not be zero'); END",
]

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Correct the funds trail with a reversal transaction.';
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_entries WHERE txn = NEW.txn;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: debits minus credits is %', NEW.txn, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_check_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        legs integer;
    BEGIN
        SELECT COUNT(*) INTO legs FROM ledger_entries WHERE txn = NEW.id;
        IF legs < 2 THEN
            RAISE EXCEPTION 'ledger transaction % has % entries; a posting needs at least two', NEW.id, legs
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_amount_nonzero",
    "ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_amount_nonzero CHECK (amount <> 0)",
    *[
        statement
        for table in TABLES
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        )
    ],
    # Checked at COMMIT, once every entry of the transaction is in.
    "DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries",
    "CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()",
    "DROP TRIGGER IF EXISTS ledger_transactions_have_entries ON ledger_transactions",
    "CREATE CONSTRAINT TRIGGER ledger_transactions_have_entries AFTER INSERT ON ledger_transactions "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_has_entries()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(raw(BOTH, sqlite=SQLITE, postgres=POSTGRES))
    return manager
