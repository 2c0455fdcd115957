"""Server-side sessions: files under TKM_DATA_DIR (embedded) or Redis (production).

The session ID is replaced at log-in, so an ID planted before log-in is worthless.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.stores.file import FileStore

from tkm.auth.middleware import NEW_ID_KEY, ROTATE_KEY, SESSION_COOKIE
from tkm.core.settings import Settings

SESSION_MAX_AGE = 14 * 24 * 3600


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        if connection.scope.get(ROTATE_KEY):  # type: ignore[misc]
            new_id = connection.scope.get(NEW_ID_KEY)  # type: ignore[misc]
            if not new_id:
                new_id = self.generate_session_id()
                connection.scope[NEW_ID_KEY] = new_id  # type: ignore[literal-required]
            return str(new_id)
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: Any, message: Any, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        # Anonymous visitors get no session at all: nothing stored, no cookie (no disk filling up).
        if not scope_session and not connection.cookies.get(self.config.key) and not connection.scope.get(ROTATE_KEY):
            return
        old_id = connection.cookies.get(self.config.key)
        if connection.scope.get(ROTATE_KEY) and old_id and old_id != self.get_session_id(connection):  # type: ignore[misc]
            # A log-in replaces the session: the old one is destroyed, not just left behind.
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


def rotate_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give this response a new session id (made now, so the CSRF middleware can bind a token to it)."""
    connection.scope[ROTATE_KEY] = True  # type: ignore[literal-required]
    connection.scope[NEW_ID_KEY] = secrets.token_hex(32)  # type: ignore[literal-required]


def previous_token(connection: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """The token of the session this browser had before logging in again (ended by the new log-in)."""
    session: Any = connection.scope.get("session")
    if isinstance(session, dict) and session.get("tid"):
        try:
            return int(session["tid"])
        except (TypeError, ValueError):
            return None
    return None


def make_store(settings: Settings) -> Store:
    if settings.session_redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.session_redis_url, namespace="tkm_sessions")
    path = settings.data_dir / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return FileStore(path=path)


def session_config(settings: Settings) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key=SESSION_COOKIE,
        store="sessions",
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
