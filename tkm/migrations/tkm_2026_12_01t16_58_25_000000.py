"""Documents void: the tranche of each payment letter that was issued before the ``tranche`` column existed.

Payment orders (``subject_key`` ``tranche:<id>`` or ``tranche:<id>:v<n>``) and handover records
(``tranche:<id>:paid:<reference>``) named their tranche only in text; a failed payment finds its letters by
the column. Runs again harmlessly (only rows still without a tranche). No braces in the SQL (QueryString).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tkm.core.migration_sql import raw

ID = "2026-12-01T16:58:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents void: backfill the tranche of payment letters"

WHERE = "tranche IS NULL AND kind IN ('payment_order', 'handover_record')"

# SQLite's CAST reads the leading digits of '5:v2' as 5.
SQLITE = [
    f"UPDATE documents SET tranche = CAST(substr(subject_key, 9) AS INTEGER) "
    f"WHERE {WHERE} AND subject_key LIKE 'tranche:%'",
]
POSTGRES = [
    f"UPDATE documents SET tranche = CAST(substring(subject_key FROM '^tranche:([0-9]+)') AS INTEGER) "
    f"WHERE {WHERE} AND subject_key ~ '^tranche:[0-9]+'",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(raw(sqlite=SQLITE, postgres=POSTGRES))
    return manager
