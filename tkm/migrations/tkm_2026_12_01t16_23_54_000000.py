"""Everything of the baseline that Piccolo does not declare: indexes, constraints, triggers, the default office.

A separate migration because Piccolo runs ``add_raw`` steps before the tables of the same migration are
created. Statements go through Piccolo's QueryString: no braces in the SQL (values go in as parameters).
Every statement may run again (IF NOT EXISTS, DROP ... IF EXISTS first). The groups, in order:

1. unique indexes Piccolo's ``Unique()`` cannot make portably (it fails on SQLite);
2. indexes for lookups, lists and the dashboard's aggregates;
3. the ledger: append-only, non-zero amounts, balanced postings (checked at COMMIT on PostgreSQL),
   and its monthly activity table (tkm.ledger.activity; derived data, empty on a new database);
4. the history of every flow (history_events): ordered, append-only;
5. the default issuing office, so that letters work out of the box.

``tkm.core.migration_bridge`` reuses group 4 when it converts a database of the earlier migrations.
"""

import datetime as dt
import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core import db
from tkm.core.migration_sql import raw

ID = "2026-12-01T16:23:54:000000"
VERSION = "1.38.0"
DESCRIPTION = "baseline: indexes, constraints, triggers, the default office"

# --- 1. uniqueness ---------------------------------------------------------------------------------------------

UNIQUE = [
    "CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_user_key ON idempotency_keys (user_id, key)",
    "CREATE UNIQUE INDEX IF NOT EXISTS group_members_group_nik ON group_members (group_id, nik)",
    # The register: one counter per office, kind and year; one number per document.
    "CREATE UNIQUE INDEX IF NOT EXISTS document_counters_office_kind_year ON document_counters (office, kind, year)",
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_office_kind_year_seq ON documents (office, kind, year, seq)",
    # Exactly one default office (a partial index: FALSE rows are not in it).
    "CREATE UNIQUE INDEX IF NOT EXISTS offices_one_default ON offices (is_default) WHERE is_default = TRUE",
    # One report per application and month; one (component, seq) tranche per application.
    "CREATE UNIQUE INDEX IF NOT EXISTS reports_application_period ON reports (application, period)",
    "CREATE UNIQUE INDEX IF NOT EXISTS tranches_application_component_seq ON tranches (application, component, seq)",
    # One reversal per ledger transaction, also under concurrency (NULLs are distinct on both engines).
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_transactions_reverses ON ledger_transactions (reverses)",
]

# --- 2. lookups and the dashboard (tkm.dashboard.queries) -----------------------------------------------------

LOOKUPS = [
    "CREATE INDEX IF NOT EXISTS applications_programme_status ON applications (programme, status)",
    "CREATE INDEX IF NOT EXISTS documents_status_updated ON documents (status, updated_at)",
    # A funds trail is one index range; keyset pagination walks it in seq order.
    "CREATE INDEX IF NOT EXISTS ledger_entries_application_seq ON ledger_entries (application_id, seq)",
    "CREATE INDEX IF NOT EXISTS ledger_accounts_owner ON ledger_accounts (owner_kind, owner_id)",
    # Dashboard scope and filters: programme and region prefix (LIKE '13.%' uses it on SQLite).
    "CREATE INDEX IF NOT EXISTS applications_programme_region ON applications (programme, region)",
    "CREATE INDEX IF NOT EXISTS applications_applicant_programme ON applications (applicant, programme)",
    "CREATE INDEX IF NOT EXISTS groups_training_centre ON groups (training_centre)",
    # Dashboard money: the few accounts that are figures, then their entries per application.
    "CREATE INDEX IF NOT EXISTS ledger_accounts_name ON ledger_accounts (name, id)",
    "CREATE INDEX IF NOT EXISTS ledger_entries_account_application ON ledger_entries (account, application_id, amount)",
    # Money by month: a posting's report period or its tranche's transfer date.
    "CREATE INDEX IF NOT EXISTS reports_ledger_transaction ON reports (ledger_transaction)",
    "CREATE INDEX IF NOT EXISTS tranches_payment_transaction ON tranches (payment_transaction)",
    # Accepted reports per application, latest period first (workers now).
    "CREATE INDEX IF NOT EXISTS reports_application_status_period ON reports (application, status, period)",
]

#: The region prefix on PostgreSQL: LIKE '13.%' needs text_pattern_ops outside the C collation.
LOOKUPS_POSTGRES = [
    "CREATE INDEX IF NOT EXISTS applications_region_pattern ON applications (region text_pattern_ops)",
]

# --- 3. the ledger --------------------------------------------------------------------------------------------

LEDGER_TABLES = ("ledger_accounts", "ledger_transactions", "ledger_entries")

#: Monthly activity per application, month and account (tkm.ledger.activity); not a Piccolo table.
LEDGER_ACTIVITY = [
    "CREATE TABLE IF NOT EXISTS ledger_activity ("
    "application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE RESTRICT, "
    "month VARCHAR(7) NOT NULL, name VARCHAR(30) NOT NULL, amount BIGINT NOT NULL DEFAULT 0, "
    "PRIMARY KEY (application_id, month, name))",
]


def _sqlite_append_only(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ]


def _postgres_append_only(table: str, function: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


LEDGER_SQLITE = [statement for table in LEDGER_TABLES for statement in _sqlite_append_only(table)] + [
    "CREATE TRIGGER IF NOT EXISTS ledger_entries_nonzero BEFORE INSERT ON ledger_entries WHEN NEW.amount = 0 "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entries: an entry amount may not be zero'); END",
]

LEDGER_POSTGRES = [
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
    *[statement for table in LEDGER_TABLES for statement in _postgres_append_only(table, "ledger_refuse_change")],
    # Checked at COMMIT, once every entry of the transaction is in.
    "DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries",
    "CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()",
    "DROP TRIGGER IF EXISTS ledger_transactions_have_entries ON ledger_transactions",
    "CREATE CONSTRAINT TRIGGER ledger_transactions_have_entries AFTER INSERT ON ledger_transactions "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_has_entries()",
]

# --- 4. the history of every flow -----------------------------------------------------------------------------

HISTORY = [
    # seq counts 1, 2, ... per record; the index also serves "the history of this record, in order".
    "CREATE UNIQUE INDEX IF NOT EXISTS history_events_record_seq ON history_events (record_kind, record_id, seq)",
    "CREATE INDEX IF NOT EXISTS history_events_record ON history_events (record_kind, record_id)",
]

HISTORY_SQLITE = _sqlite_append_only("history_events")

HISTORY_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'History is only appended: record a new event instead.';
    END
    $$
    """,
    *_postgres_append_only("history_events", "history_refuse_change"),
]

#: Every statement per engine, in the order above (tests re-create dropped triggers from these lists).
BOTH = UNIQUE + LOOKUPS + LEDGER_ACTIVITY + HISTORY
SQLITE = LEDGER_SQLITE + HISTORY_SQLITE
POSTGRES = LOOKUPS_POSTGRES + LEDGER_POSTGRES + HISTORY_POSTGRES

# --- 5. the default issuing office ----------------------------------------------------------------------------


async def default_office():
    """Values go in as parameters: QueryString reads every ``{}`` in a statement as a placeholder."""
    if await db.fetch_one("SELECT id FROM offices WHERE is_default = {}", True):
        return
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await db.execute(
        "INSERT INTO offices (code, name, region, is_default, letterhead, address, contact, city, signatory_name, "
        "signatory_title, signatory_nip, signatories, numbering_pattern, kind_codes, version, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        "PUSAT",
        "Kementerian Ketenagakerjaan Republik Indonesia",
        "",
        True,
        json.dumps(
            [
                "KEMENTERIAN KETENAGAKERJAAN REPUBLIK INDONESIA",
                "DIREKTORAT JENDERAL PEMBINAAN PELATIHAN VOKASI DAN PRODUKTIVITAS",
            ]
        ),
        "Jalan Jenderal Gatot Subroto Kav. 51, Jakarta Selatan 12750",
        "",
        "Jakarta",
        "",
        "Pejabat Pembuat Komitmen",
        "",
        "{}",
        "{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}",
        "{}",
        1,
        now,
        now,
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(raw(BOTH, sqlite=SQLITE, postgres=POSTGRES))
    manager.add_raw(default_office)
    return manager
