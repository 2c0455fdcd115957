"""Indexes for the monitoring dashboard's aggregates (tkm.dashboard.queries)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-11-29T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dashboard: indexes for the aggregates"

STATEMENTS = [
    # Scope and filters: programme and region prefix (LIKE '13.%' uses it on SQLite; text_pattern_ops below on PG).
    "CREATE INDEX IF NOT EXISTS applications_programme_region ON applications (programme, region)",
    "CREATE INDEX IF NOT EXISTS applications_applicant_programme ON applications (applicant, programme)",
    "CREATE INDEX IF NOT EXISTS groups_training_centre ON groups (training_centre)",
    # Ledger money: the few accounts that are figures, then their entries per application.
    "CREATE INDEX IF NOT EXISTS ledger_accounts_name ON ledger_accounts (name, id)",
    "CREATE INDEX IF NOT EXISTS ledger_entries_account_application ON ledger_entries (account, application_id, amount)",
    # Money by month: a posting's report period or its tranche's transfer date.
    "CREATE INDEX IF NOT EXISTS reports_ledger_transaction ON reports (ledger_transaction)",
    "CREATE INDEX IF NOT EXISTS tranches_payment_transaction ON tranches (payment_transaction)",
    # Accepted reports per application, latest period first (workers now).
    "CREATE INDEX IF NOT EXISTS reports_application_status_period ON reports (application, status, period)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(
        raw(
            STATEMENTS,
            postgres=[
                "CREATE INDEX IF NOT EXISTS applications_region_pattern ON applications (region text_pattern_ops)",
            ],
        )
    )
    return manager
