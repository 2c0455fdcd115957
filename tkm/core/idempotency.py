"""Idempotency-Key for money-moving calls.

The key row is inserted in the same transaction as the money move. A repeat
with the same key (and the same request) gets the stored first response; the
same key with a different request is 409. On PostgreSQL a concurrent repeat
waits on the unique index until the first commits, then replays it; on SQLite
the IMMEDIATE transaction serialises them. A call that fails stores nothing,
so it can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tkm.core import db
from tkm.core.errors import Conflict, invalid
from tkm.core.i18n import _

KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,200}\Z")
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool


def request_hash(scope: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not KEY_RE.match(key):
        raise invalid(HEADER, _("Use 8 to 200 letters, digits, dashes or colons, e.g. a UUID."))
    return key


async def run(
    user_id: int,
    key: str | None,
    scope: str,
    body: Any,
    action: Callable[[], Awaitable[tuple[int, Any]]],
) -> Outcome:
    """Run ``action`` (which returns ``(status_code, json_body)``) at most once per ``(user, key)``.

    ``action`` runs inside the transaction opened here, so its writes and the
    stored response commit together.
    """
    key = check_key(key)
    fingerprint = request_hash(scope, body)
    async with db.transaction():
        if key is None:
            status, payload = await action()
            return Outcome(status, payload, False)
        inserted = await db.fetch_one(
            "INSERT INTO idempotency_keys (user_id, key, scope, request_hash, status_code, response, created_at) "
            "VALUES ({}, {}, {}, {}, 0, 'null', {}) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            user_id,
            key,
            scope,
            fingerprint,
            datetime.now(UTC),
        )
        if inserted is None:
            row = await db.fetch_one(
                "SELECT scope, request_hash, status_code, response FROM idempotency_keys "
                "WHERE user_id = {} AND key = {}",
                user_id,
                key,
            )
            assert row is not None
            if row["request_hash"] != fingerprint or row["scope"] != scope:
                raise Conflict(
                    _("This Idempotency-Key was already used for a different request."),
                    title="Idempotency-Key reused",
                )
            stored = row["response"]
            return Outcome(int(row["status_code"]), json.loads(stored) if isinstance(stored, str) else stored, True)
        status, payload = await action()
        await db.execute(
            "UPDATE idempotency_keys SET status_code = {}, response = {} WHERE id = {}",
            status,
            json.dumps(payload, default=str),
            inserted["id"],
        )
        return Outcome(status, payload, False)
