"""One-time notices shown on the next page after an action ("Application submitted."), kept in the session."""

from __future__ import annotations

from typing import Any

FLASH_KEY = "flash"
MAX_NOTICES = 10


def flash(request: Any, message: str, kind: str = "ok", items: list[Any] | None = None) -> None:
    """Queue a notice for the next page the user sees. ``kind``: ok, warn or error.

    ``items`` are lines under the message: text, or ``{"text", "href"}`` for a link.
    """
    session = request.scope.get("session")
    if not isinstance(session, dict):
        return  # no session (not logged in): nothing to carry the notice
    notices = list(session.get(FLASH_KEY) or [])[-(MAX_NOTICES - 1) :]
    notices.append({"message": message, "kind": kind, "items": list(items or [])})
    session[FLASH_KEY] = notices


def pop_flashes(request: Any) -> list[dict[str, Any]]:
    """The queued notices, removed from the session (templates call this once per page)."""
    if request is None:
        return []
    session = request.scope.get("session")
    if not isinstance(session, dict) or not session.get(FLASH_KEY):
        return []
    return list(session.pop(FLASH_KEY))
