"""The transition log of every flow (table ``history_events``): append one event, read a record's events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.core import db, hashchain
from tkm.workflow.tables import HistoryEvent

#: The ``chain_heads`` row whose ``keyed_from`` is the first history event id that carries a hash.
CHAIN = "history"
FIELDS = (
    "record_kind", "record_id", "seq", "action", "from_state", "to_state",
    "actor", "actor_name", "actor_role", "at", "notes", "body",
)  # fmt: skip


def row_hash(row: dict[str, Any]) -> str:
    """The keyed hash of an event's fields (``body`` decoded); ``tkm verify`` recomputes it."""
    fields = {name: row[name] for name in FIELDS}
    if isinstance(fields["body"], str):
        fields["body"] = json.loads(fields["body"] or "{}")
    fields["actor"] = None if fields["actor"] is None else int(fields["actor"])
    return hashchain.mac(hashchain.canonical(fields))


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
    row: dict[str, Any] = {
        "record_kind": kind,
        "record_id": record_id,
        "seq": (int(last["seq"]) if last else 0) + 1,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor": actor.id if actor else None,
        "actor_name": actor.name if actor else "system",
        "actor_role": str(actor.role) if actor else "",
        "at": at or dt.datetime.now(dt.UTC),
        "notes": notes,
        "body": json.loads(json.dumps(body or {}, default=str)),
    }
    stored = {**row, "body": json.dumps(row["body"]), "hash": row_hash(row)}
    rows = await HistoryEvent.insert(HistoryEvent(**stored)).returning(HistoryEvent.id)
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


async def verify(batch_size: int = 2000) -> str | None:
    """Every event against its keyed hash, each record's events numbered 1, 2, ... with none missing, and
    the events up to each checkpoint against its count and digest (events cut off a record's end, or events
    of before keys that were edited). Walks the table once, in the order of its unique index."""
    from bisect import bisect_left

    from tkm.core import checkpoints

    keyed_from = await checkpoints.history_keyed_from()
    found, _bad = checkpoints.load_all()  # a bad file is reported by the checkpoints' own check
    marks = [(cp.body[checkpoints.HISTORY], cp.name) for cp in found if cp.body.get(checkpoints.HISTORY)]
    marks.sort(key=lambda m: int(m[0]["max_id"]))
    bounds = [int(m[0]["max_id"]) for m in marks]
    counts, digests = [0] * len(marks), [0] * len(marks)
    for summary, name in marks:
        if int(summary.get("keyed_from", 1)) != keyed_from:
            return (
                f"chain_heads record history: keyed events begin at id {keyed_from}, checkpoint {name} "
                f"recorded {summary.get('keyed_from')} (events were passed off as unkeyed ones)"
            )
    columns = ", ".join(("id", "hash", *FIELDS))
    last: tuple[str, int, int] = ("", -1, 0)
    while True:
        rows = await db.fetch(
            f"SELECT {columns} FROM history_events WHERE (record_kind, record_id, seq) > ({{}}, {{}}, {{}}) "  # noqa: S608
            "ORDER BY record_kind, record_id, seq LIMIT {}",
            *last,
            batch_size,
        )
        for r in rows:
            record = f"{r['record_kind']} {r['record_id']}"
            expected = last[2] + 1 if (r["record_kind"], r["record_id"]) == last[:2] else 1
            if int(r["seq"]) != expected:
                return (
                    f"history_events record {r['id']} ({record}, event {r['seq']}): event {expected} "
                    "of this record is missing"
                )
            computed = row_hash(r)
            if (int(r["id"]) >= keyed_from or r["hash"]) and r["hash"] != computed:
                return (
                    f"history_events record {r['id']} ({record}, event {r['seq']}) "
                    "was changed after it was written (hash mismatch)"
                )
            at = bisect_left(bounds, int(r["id"]))
            if at < len(bounds):
                counts[at] += 1
                digests[at] ^= int(computed, 16)
            last = (r["record_kind"], int(r["record_id"]), int(r["seq"]))
        if len(rows) < batch_size:
            break
    count, acc = 0, 0
    for (summary, name), n, d in zip(marks, counts, digests, strict=True):
        count, acc = count + n, acc ^ d
        if count != int(summary["count"]) or f"{acc:064x}" != summary["digest"]:
            return (
                f"history_events: the {count} events up to id {summary['max_id']} differ from checkpoint {name} "
                f"({summary['count']} events there): an event was deleted or edited"
            )
    return None
