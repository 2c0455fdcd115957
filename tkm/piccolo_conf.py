"""Piccolo's configuration: the engine comes from TKM_DATABASE_URL (see tkm.core.db)."""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["tkm.piccolo_app"])


def all_tables() -> list[Any]:
    from piccolo.apps.migrations.tables import Migration

    from tkm.piccolo_app import APP_CONFIG

    return [*APP_CONFIG.table_classes, Migration]


def __getattr__(name: str) -> Any:
    # The engine is built on first use so that importing this module never needs settings.
    if name == "DB":
        from tkm.core.db import get_engine

        return get_engine()
    raise AttributeError(name)
