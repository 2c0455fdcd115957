"""Documents void: the tranche of older payment letters, and a void document stays as it is.

1. Payment orders (``subject_key`` ``tranche:<id>`` or ``tranche:<id>:v<n>``) and handover records
   (``tranche:<id>:paid:<reference>``) issued before the ``tranche`` column named their tranche only in
   text; a failed payment finds its letters by the column. Only rows still without a tranche change.
2. A void document is never deleted, stays void, and keeps its number and its file (the register stays
   gapless; its PDF is still the one issued). Rendering a letter voided while pending still works.

Every statement may run again. No braces in the SQL (QueryString).
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

# What of a void document may not change: it stays void, with its number and (once made) its file.
CHANGED = (
    "NEW.voided_at IS NULL OR NEW.number <> OLD.number OR NEW.seq <> OLD.seq OR NEW.year <> OLD.year "
    "OR NEW.office <> OLD.office OR NEW.kind <> OLD.kind "
    "OR (OLD.sha256 <> '' AND (NEW.sha256 <> OLD.sha256 OR NEW.file_path <> OLD.file_path))"
)

SQLITE += [
    "CREATE TRIGGER IF NOT EXISTS documents_void_no_delete BEFORE DELETE ON documents "
    "WHEN OLD.voided_at IS NOT NULL "
    "BEGIN SELECT RAISE(ABORT, 'documents: a void document is never deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS documents_void_stays BEFORE UPDATE ON documents "
    f"WHEN OLD.voided_at IS NOT NULL AND ({CHANGED}) "
    "BEGIN SELECT RAISE(ABORT, 'documents: a void document stays void, with its number and file'); END",
]
POSTGRES += [
    f"""
    CREATE OR REPLACE FUNCTION documents_void_stays() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'documents: a void document is never deleted'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF {CHANGED} THEN
            RAISE EXCEPTION 'documents: a void document stays void, with its number and file'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS documents_void_stays ON documents",
    "CREATE TRIGGER documents_void_stays BEFORE UPDATE OR DELETE ON documents "
    "FOR EACH ROW WHEN (OLD.voided_at IS NOT NULL) EXECUTE FUNCTION documents_void_stays()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tkm", description=DESCRIPTION)
    manager.add_raw(raw(sqlite=SQLITE, postgres=POSTGRES))
    return manager
