"""How a domain package describes itself: its tables, routes, menu entries, page panels, start-up checks,
tasks and workflow hooks, in one ``Domain`` object (``tkm/<domain>/domain.py``).

``tkm/domains.py`` lists the domains; the app factory, Piccolo's app config, the Celery app, the hook
registry and the navigation all read that list. Parts that pull in heavy modules (routes, panels, start-up
checks) are named as ``"module:attribute"`` and imported only when used, so that reading the list (e.g. for
Piccolo's migrations or a Celery worker) does not import the web layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any


def resolve(ref: str) -> Any:
    """``"tkm.disbursement.html:tranches_panel"`` → the object."""
    module, _, attribute = ref.partition(":")
    if not attribute:
        raise ValueError(f"{ref!r}: write module:attribute")
    return getattr(import_module(module), attribute)


@dataclass(frozen=True)
class NavItem:
    """An entry of the main menu, shown to the listed roles in ``order``.

    Slots already used: 10-20 applicant (groups, applications), 30 review queue, 35 approvals, 40 finance,
    50 dashboard, 60 reports, 62 programme report, 70-80 lists for staff.
    """

    label: str  # an English message id, translated when shown
    href: str
    roles: tuple[str, ...]
    order: int = 100
    #: Other path prefixes that mark this item as the current page.
    also: tuple[str, ...] = ()

    def is_current(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in (self.href, *self.also))


@dataclass(frozen=True)
class Panel:
    """A section a domain adds to the application page (``/applications/{id}``).

    ``load`` is ``async def load(application_view, user) -> dict | None`` (or its ``"module:function"`` name,
    imported when first shown): the template's context (it should call the domain's service, which checks
    access) or None to leave the panel out.
    """

    template: str
    load: str | Callable[[dict[str, Any], Any], Awaitable[dict[str, Any] | None]]
    roles: tuple[str, ...]
    order: int = 100

    def loader(self) -> Callable[[dict[str, Any], Any], Awaitable[dict[str, Any] | None]]:
        return resolve(self.load) if isinstance(self.load, str) else self.load


@dataclass(frozen=True)
class Domain:
    name: str
    #: The module holding the domain's Piccolo tables (one migrations folder for all: tkm/migrations).
    tables: str | None = None
    #: Route handlers and controllers, as ``module:attribute``.
    routes: tuple[str, ...] = ()
    nav: tuple[NavItem, ...] = ()
    panels: tuple[Panel, ...] = ()
    #: ``module:function`` called with the settings by the app factory and the CLI; a failure stops start-up.
    startup: tuple[str, ...] = ()
    #: The module defining the domain's Celery tasks (and its periodic ones through ``worker.add_schedule``).
    tasks: str | None = None
    #: The module registering the guards, effects, conditions, record kinds and traits workflow files name.
    hooks: str | None = None
    #: What ``tkm verify`` checks: ``(name, "module:async_function")``, the function returning a break
    #: (with a readable str) or None.
    checks: tuple[tuple[str, str], ...] = ()


#: The core's own part: shared tables (hash-chain heads, audit events, outbox, idempotency keys), /health and
#: the outbox drain.
DOMAIN = Domain(
    name="core",
    tables="tkm.core.tables",
    routes=("tkm.core.health:health",),
    tasks="tkm.core.tasks",
    checks=(("audit trail", "tkm.core.audit:verify"), ("checkpoints", "tkm.core.checkpoints:verify")),
)
