"""The main menu and the panels of the application page, assembled from the domains (``tkm/domains.py``).

A domain lists its menu entries as ``nav=(NavItem(...),)`` and its sections of the application page as
``panels=(Panel(...),)`` in its ``domain.py`` (see ``tkm.core.domain`` for both); the menu shows the items
whose ``roles`` include the user's role, ordered by ``order``.
"""

from __future__ import annotations

from typing import Any

from tkm import domains
from tkm.core.domain import NavItem, Panel
from tkm.core.i18n import gettext

__all__ = ["NavItem", "Panel", "all_items", "all_panels", "items_for", "panels_for"]


def all_items() -> tuple[NavItem, ...]:
    return domains.nav_items()


def all_panels() -> tuple[Panel, ...]:
    return domains.application_panels()


def items_for(user: Any, path: str) -> list[dict[str, Any]]:
    if user is None:
        return []
    visible = [item for item in all_items() if user.role in item.roles]
    current = max((item for item in visible if item.is_current(path)), key=lambda i: len(i.href), default=None)
    return [{"label": gettext(item.label), "href": item.href, "current": item is current} for item in visible]


async def panels_for(app: dict[str, Any], user: Any) -> list[dict[str, Any]]:
    """The panels this user sees on this application, each as {"template", "context"}."""
    out = []
    for panel in all_panels():
        if user.role not in panel.roles:
            continue
        context = await panel.loader()(app, user)
        if context is not None:
            out.append({"template": panel.template, "context": context})
    return out
