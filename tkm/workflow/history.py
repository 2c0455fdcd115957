"""The transition log of every flow (table ``history_events``): append one event, read a record's events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.core import db
from tkm.workflow.tables import HistoryEvent


async def append(
    kind: str,
    record_id: int,
    action: str,
    actor: CurrentUser | None,
    *,
    from_state: str = "",
    to_state: str = "",
    at: dt.datetime | None = None,
    notes: str = "",
    body: dict[str, Any] | None = None,
) -> int:
    """Add the next event of a record (inside the caller's transaction, which holds the record's lock)."""
    last = await db.fetch_one(
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM history_events WHERE record_kind = {} AND record_id = {}",
        kind,
        record_id,
    )
    rows = await HistoryEvent.insert(
        HistoryEvent(
            record_kind=kind,
            record_id=record_id,
            seq=(int(last["seq"]) if last else 0) + 1,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor.id if actor else None,
            actor_name=actor.name if actor else "system",
            actor_role=str(actor.role) if actor else "",
            at=at or dt.datetime.now(dt.UTC),
            notes=notes,
            body=json.dumps(body or {}),
        )
    ).returning(HistoryEvent.id)
    return int(rows[0]["id"])


async def events(kind: str, record_id: int) -> list[dict[str, Any]]:
    """A record's events, oldest first, ``body`` decoded."""
    rows = (
        await HistoryEvent.select()
        .where(HistoryEvent.record_kind == kind, HistoryEvent.record_id == record_id)
        .order_by(HistoryEvent.seq)
    )
    for row in rows:
        if isinstance(row["body"], str):
            row["body"] = json.loads(row["body"])
    return rows


async def last_actor(kind: str, record_id: int, action: str) -> int | None:
    """Who last did ``action`` to the record (None if nobody did)."""
    row = await (
        HistoryEvent.select(HistoryEvent.actor)
        .where(HistoryEvent.record_kind == kind, HistoryEvent.record_id == record_id, HistoryEvent.action == action)
        .order_by(HistoryEvent.seq, ascending=False)
        .first()
    )
    return None if row is None or row["actor"] is None else int(row["actor"])
