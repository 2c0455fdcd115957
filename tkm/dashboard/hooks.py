"""Plug the dashboard's aggregates into the programme summary letter (disbursed, spent, revenue, ...)."""

from __future__ import annotations

from typing import Any

from tkm.dashboard.services import programme_activity
from tkm.documents import summary


def register() -> None:
    summary.set_activity_source(programme_activity)


# Imported by the workflow hook registry (web, worker and CLI processes alike).
register()


def startup(settings: Any) -> None:
    register()
