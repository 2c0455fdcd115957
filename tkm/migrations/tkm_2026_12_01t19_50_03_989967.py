from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T19:50:03:989967"
VERSION = "1.38.0"
DESCRIPTION = "attachments keep the GPS position and time of a photo"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tkm", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Attachment",
        tablename="attachments",
        column_name="photo",
        db_column_name="photo",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
