"""The single Piccolo app: every domain's tables, one migrations folder (tkm/migrations)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

#: Each domain owns its tables in ``<domain>/tables.py``; list new ones here.
TABLE_MODULES = [
    "tkm.core.tables",
    "tkm.auth.tables",
    "tkm.programmes.tables",
    "tkm.notifications.tables",
    "tkm.groups.tables",
    "tkm.applications.tables",
    "tkm.ledger.tables",
    "tkm.reports.tables",
    "tkm.disbursement.tables",
    "tkm.documents.tables",
    "tkm.workflow.tables",
]

APP_CONFIG = AppConfig(
    app_name="tkm",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
