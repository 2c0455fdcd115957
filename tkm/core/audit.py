"""Audit events: logins, failed logins, denied access, and every command that changes data.

Events join the caller's transaction when there is one (so they commit or roll
back with the change they describe) and otherwise get their own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tkm.core import db, hashchain
from tkm.core.tables import AuditEvent

CHAIN = "audit"


def _fields(
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    address: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "address": address,
        "details": details,
    }


async def record(
    action: str,
    *,
    actor_id: int | None = None,
    actor: str = "",
    object_type: str = "",
    object_id: Any = "",
    address: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    details = json.loads(json.dumps(details or {}, default=str))
    at = datetime.now(UTC)
    object_id = "" if object_id is None else str(object_id)
    async with db.transaction():
        fields = _fields(at, actor_id, actor, action, object_type, object_id, address, details)
        link = await hashchain.append(CHAIN, fields)
        await AuditEvent.insert(
            AuditEvent(
                seq=link.seq,
                at=at,
                actor_id=actor_id,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                address=address,
                details=json.dumps(details),
                prev_hash=link.prev_hash,
                hash=link.hash,
            )
        )


async def verify(batch_size: int = 2000) -> hashchain.ChainBreak | None:
    """Walk the audit chain in sequence order, a batch at a time."""
    verifier = await hashchain.verifier(CHAIN)
    last_seq = 0
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
            .output(load_json=True)
        )
        for r in rows:
            fields = _fields(
                r["at"],
                r["actor_id"],
                r["actor"],
                r["action"],
                r["object_type"],
                r["object_id"],
                r["address"],
                r["details"] or {},
            )
            if not verifier.feed(r["id"], int(r["seq"]), r["prev_hash"], r["hash"], fields):
                return verifier.broken
        if len(rows) < batch_size:
            return await verifier.finish()
        last_seq = int(rows[-1]["seq"])
