"""The domains of TKM, in one list. Adding a domain is one line here (and its own ``domain.py``).

Read by the app factory (routes, start-up checks), Piccolo's app config (tables), the Celery app (tasks),
the workflow hook registry (hooks) and the navigation (menu entries, application page panels).
"""

from __future__ import annotations

from typing import Any

from tkm.amendments.domain import DOMAIN as amendments
from tkm.applications.domain import DOMAIN as applications
from tkm.auth.domain import DOMAIN as auth
from tkm.core.domain import DOMAIN as core
from tkm.core.domain import Domain, NavItem, Panel, resolve
from tkm.dashboard.domain import DOMAIN as dashboard
from tkm.disbursement.domain import DOMAIN as disbursement
from tkm.documents.domain import DOMAIN as documents
from tkm.groups.domain import DOMAIN as groups
from tkm.ledger.domain import DOMAIN as ledger
from tkm.notifications.domain import DOMAIN as notifications
from tkm.programmes.domain import DOMAIN as programmes
from tkm.regions.domain import DOMAIN as regions
from tkm.reports.domain import DOMAIN as reports
from tkm.web.domain import DOMAIN as web
from tkm.workflow.domain import DOMAIN as workflow

DOMAINS: tuple[Domain, ...] = (
    core,
    auth,
    regions,
    programmes,
    notifications,
    groups,
    workflow,
    applications,
    ledger,
    reports,
    disbursement,
    amendments,
    documents,
    dashboard,
    web,
)


def table_modules() -> list[str]:
    return [d.tables for d in DOMAINS if d.tables]


def task_modules() -> list[str]:
    return [d.tasks for d in DOMAINS if d.tasks]


def hook_modules() -> list[str]:
    return [d.hooks for d in DOMAINS if d.hooks]


def route_handlers() -> list[Any]:
    return [resolve(ref) for d in DOMAINS for ref in d.routes]


def run_startup_checks(settings: Any) -> None:
    for d in DOMAINS:
        for ref in d.startup:
            resolve(ref)(settings)


def nav_items() -> tuple[NavItem, ...]:
    return tuple(sorted((item for d in DOMAINS for item in d.nav), key=lambda item: item.order))


def application_panels() -> tuple[Panel, ...]:
    return tuple(sorted((panel for d in DOMAINS for panel in d.panels), key=lambda panel: panel.order))


def checks() -> list[tuple[str, str]]:
    """What ``tkm verify`` runs, in the order of the domains."""
    return [check for d in DOMAINS for check in d.checks]
