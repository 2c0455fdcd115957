"""The single Piccolo app: every domain's tables (``tkm/domains.py``), one migrations folder (tkm/migrations)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

from tkm.domains import table_modules

APP_CONFIG = AppConfig(
    app_name="tkm",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=table_modules(), exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
