"""Route guards and the ``user`` dependency. Object-level checks live in each domain's services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from tkm.auth.roles import CurrentUser
from tkm.core.errors import Forbidden, Unauthorized
from tkm.core.i18n import _

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return connection.scope.get("user")  # type: ignore[return-value]


def login_required(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if caller(connection) is None:
        raise Unauthorized(_("Log in first."))


def roles(*allowed: str) -> Guard:
    """Only these roles may call the route (401 when not logged in, 403 for another role)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        user = caller(connection)
        if user is None:
            raise Unauthorized(_("Log in first."))
        if user.role not in allowed:
            raise Forbidden(_("Your role (%(role)s) may not do this.", role=user.role))

    guard.__name__ = f"roles_{'_'.join(allowed)}"
    return guard


async def provide_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """Dependency ``user``: the logged-in caller (routes using it need a login)."""
    user = request.scope.get("user")
    if user is None:
        raise Unauthorized(_("Log in first."))
    return user


def client_address(request: Any) -> str:
    client = request.scope.get("client")
    return client[0] if client else ""
