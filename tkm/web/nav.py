"""The main menu and the panels of the application page, assembled from the domains.

Each module in ``tkm.app.ROUTE_MODULES`` may export ``NAV = [NavItem(...)]``;
the menu shows the items whose ``roles`` include the user's role, ordered by
``order``. A later domain adds its own entries the same way, e.g. in
``tkm/disbursement/routes.py``::

    NAV = [NavItem(N_("Finance"), "/finance", roles=("finance",), order=40)]

Slots already used: 10-20 applicant (groups, applications), 30 review queue,
35 approvals, 40 finance, 50 dashboard, 60 reports, 70-80 lists for staff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from tkm.core.i18n import gettext


@dataclass(frozen=True)
class NavItem:
    label: str  # an English message id, translated when shown
    href: str
    roles: tuple[str, ...]
    order: int = 100
    #: Other path prefixes that mark this item as the current page.
    also: tuple[str, ...] = ()

    def is_current(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in (self.href, *self.also))


@cache
def all_items() -> tuple[NavItem, ...]:
    from tkm.app import ROUTE_MODULES

    items: list[NavItem] = []
    for name in ROUTE_MODULES:
        items.extend(getattr(import_module(name), "NAV", []))
    return tuple(sorted(items, key=lambda item: item.order))


def items_for(user: Any, path: str) -> list[dict[str, Any]]:
    if user is None:
        return []
    visible = [item for item in all_items() if user.role in item.roles]
    current = max((item for item in visible if item.is_current(path)), key=lambda i: len(i.href), default=None)
    return [{"label": gettext(item.label), "href": item.href, "current": item is current} for item in visible]


@dataclass(frozen=True)
class Panel:
    """A section another domain adds to the application page (``/applications/{id}``).

    Export ``APPLICATION_PANELS = [Panel(...)]`` from the domain's ``routes.py``, e.g. the
    tranches (disbursement), the letters (documents) or the monthly reports::

        Panel("documents/_panel.html", load=documents_for_page, roles=("applicant", "finance", ...), order=20)

    ``load(application_view, user)`` returns the template's context (it should call the
    domain's service, which checks access) or None to leave the panel out.
    """

    template: str
    load: Callable[[dict[str, Any], Any], Awaitable[dict[str, Any] | None]]
    roles: tuple[str, ...]
    order: int = 100


@cache
def all_panels() -> tuple[Panel, ...]:
    from tkm.app import ROUTE_MODULES

    panels: list[Panel] = []
    for name in ROUTE_MODULES:
        panels.extend(getattr(import_module(name), "APPLICATION_PANELS", []))
    return tuple(sorted(panels, key=lambda panel: panel.order))


async def panels_for(app: dict[str, Any], user: Any) -> list[dict[str, Any]]:
    """The panels this user sees on this application, each as {"template", "context"}."""
    out = []
    for panel in all_panels():
        if user.role not in panel.roles:
            continue
        context = await panel.load(app, user)
        if context is not None:
            out.append({"template": panel.template, "context": context})
    return out
