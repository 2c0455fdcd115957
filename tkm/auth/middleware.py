"""Who is calling: a bearer token, or the server-side session cookie; and CSRF for cookie callers."""

from __future__ import annotations

from typing import Any

from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from tkm.auth import services

SESSION_COOKIE = "tkm_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def bearer_token(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def _has_cookie(scope: Scope, name: str) -> bool:
    cookie = _header(scope, b"cookie") or ""
    return any(part.strip().startswith(name + "=") for part in cookie.split(";"))


class AuthMiddleware:
    """Puts the caller (``CurrentUser``) or None in ``scope["user"]``; guards decide what it may do.

    A bearer token, when present, is the only credential looked at: the cookie is ignored.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        user = None
        method = None
        token = bearer_token(scope)
        if token:
            user = await services.user_for_token(token)
            method = "bearer" if user else None
        else:
            session: Any = scope.get("session")
            if isinstance(session, dict) and session.get("tid"):
                user = await services.user_for_token(token_id=int(session["tid"]))
                method = "session" if user else None
        scope["user"] = user
        scope["auth"] = method
        await self.app(scope, receive, send)


class TKMCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, applied to callers that a browser could be tricked into sending.

    Skipped for bearer-token calls (a browser never adds that header by itself) and
    for JSON calls that carry no session cookie (scripts logging in; a cross-site
    JSON post needs a CORS preflight this app never grants).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method", "GET") not in SAFE_METHODS:
            if bearer_token(scope):
                await self.app(scope, receive, send)
                return
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if content_type == "application/json" and not _has_cookie(scope, SESSION_COOKIE):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
