"""Who is calling: a bearer token, or the server-side session cookie; and CSRF for cookie callers."""

from __future__ import annotations

from secrets import compare_digest
from typing import Any

from litestar.connection import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import (
    CSRF_SECRET_LENGTH,
    CSRFMiddleware,
    generate_csrf_hash,
    generate_csrf_token,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from tkm.auth import services

SESSION_COOKIE = "tkm_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
#: Scope keys: a log-in asks for a new session id, made at once so the CSRF token can be bound to it.
ROTATE_KEY = "tkm_rotate_session"
NEW_ID_KEY = "tkm_new_session_id"
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


def session_id_of(scope: Scope) -> str:
    """The session cookie's value ("" without one): what a CSRF token is bound to."""
    for part in (_header(scope, b"cookie") or "").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return "" if value in ("", "null") else value
    return ""


class TKMCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, with each token bound to the browser's session.

    The token's HMAC is keyed with the secret *and* the session id, so a token taken from another
    session (another user's page, or this browser before it logged in) is refused. A GET whose cookie
    token belongs to another session gets a fresh one; a log-in that replaces the session sends the
    token of the new session with it.

    Skipped for bearer-token calls (a browser never adds that header by itself) and
    for JSON calls that carry no session cookie (scripts logging in; a cross-site
    JSON post needs a CORS preflight this app never grants).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("method", "GET") not in SAFE_METHODS:
            if bearer_token(scope):
                await self.app(scope, receive, send)
                return
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if content_type == "application/json" and not _has_cookie(scope, SESSION_COOKIE):
                await self.app(scope, receive, send)
                return
        if should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope, receive=receive)
        session_id = session_id_of(scope)
        cookie_token = request.cookies.get(self.config.cookie_name)
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            current = cookie_token if cookie_token and self._bound(cookie_token, session_id) else None
            token = current or self._new_token(session_id)
            state.csrf_token = token
            await self.app(scope, receive, self._send_wrapper(send, scope, None if current else token))
            return
        submitted = request.headers.get(self.config.header_name)
        content_type, _params = request.content_type
        if not submitted and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            form = await request.form()
            value = form.get("_csrf_token", None)
            submitted = value if isinstance(value, str) else None
        if submitted and cookie_token:
            ours, theirs = self._bound(submitted, session_id), self._bound(cookie_token, session_id)
            if ours is not None and theirs is not None and compare_digest(ours, theirs):
                state.csrf_token = submitted
                await self.app(scope, receive, self._send_wrapper(send, scope, None))
                return
        raise PermissionDeniedException("CSRF token verification failed")

    def _secret(self, session_id: str) -> str:
        return f"{self.config.secret}|{session_id}"

    def _new_token(self, session_id: str) -> str:
        return generate_csrf_token(secret=self._secret(session_id))

    def _bound(self, token: str, session_id: str) -> str | None:
        """The token's random part if its HMAC was made for this session, else None."""
        if len(token) < CSRF_SECRET_LENGTH + 1:
            return None
        random_part, mac = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        expected = generate_csrf_hash(token=random_part, secret=self._secret(session_id))
        return random_part if compare_digest(mac, expected) else None

    def _send_wrapper(self, send: Send, scope: Scope, token: str | None) -> Send:
        async def wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                new_token = token
                new_session = scope.get(NEW_ID_KEY) if scope.get(ROTATE_KEY) else None  # type: ignore[misc]
                if new_session:  # a log-in replaced the session: hand over a token of the new one
                    new_token = self._new_token(str(new_session))
                if new_token:
                    message.setdefault("headers", [])  # type: ignore[typeddict-item]
                    self._set_cookie_if_needed(message=message, token=new_token)  # type: ignore[arg-type]
            await send(message)

        return wrapper
