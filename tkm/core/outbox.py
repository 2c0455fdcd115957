"""The transactional outbox: tasks are recorded with the change and sent after commit.

``enqueue`` writes a row inside the caller's transaction; when that
transaction commits, the rows are handed to the broker. Rows the broker did
not take (it was down, the process died) are sent again by the periodic
``tkm.outbox.drain`` task, so a broker outage loses nothing. A rolled-back
command sends nothing. Tasks must therefore be idempotent: they may run twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import structlog

from tkm.core import db
from tkm.core.tables import OutboxMessage

log = structlog.get_logger(__name__)

#: Rows younger than this are left to the after-commit sender of their own request.
DRAIN_GRACE_SECONDS = 15

_pending_key = "tkm_outbox_pending"


async def enqueue(task: str, payload: dict[str, Any] | None = None, *, dedupe_key: str | None = None) -> int | None:
    """Record ``task`` for sending after the current transaction commits.

    With ``dedupe_key``, a second enqueue with the same key is ignored (returns None).
    """
    if not db.in_transaction():
        raise RuntimeError("outbox.enqueue() must run inside db.transaction()")
    now = datetime.now(UTC)
    body = json.dumps(payload or {}, default=str)
    if dedupe_key is not None:
        row = await db.fetch_one(
            "INSERT INTO outbox (task, payload, dedupe_key, created_at, attempts, last_error) "
            "VALUES ({}, {}, {}, {}, 0, '') ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            task,
            body,
            dedupe_key,
            now,
        )
        if row is None:
            return None
        message_id = int(row["id"])
    else:
        rows = await OutboxMessage.insert(
            OutboxMessage(task=task, payload=body, created_at=now, attempts=0, last_error="")
        ).returning(OutboxMessage.id)
        message_id = int(rows[0]["id"])

    async def _send_after_commit() -> None:
        await send_messages([message_id])

    db.after_commit(_send_after_commit)
    return message_id


def _publish(task: str, payload: dict[str, Any], message_id: int) -> None:
    from tkm.worker import celery_app

    # Results are never read: ignoring them keeps a result-backend outage from blocking the send.
    celery_app.send_task(
        task, kwargs=payload, task_id=f"outbox-{message_id}-{datetime.now(UTC).timestamp()}", ignore_result=True
    )


async def send_messages(ids: list[int]) -> int:
    """Claim each row, publish it, and release the claim when the broker refuses. Returns how many went."""
    sent = 0
    for message_id in ids:
        claimed = await db.fetch_one(
            "UPDATE outbox SET sent_at = {}, attempts = attempts + 1 WHERE id = {} AND sent_at IS NULL "
            "RETURNING task, payload",
            datetime.now(UTC),
            message_id,
        )
        if claimed is None:
            continue  # already sent by someone else
        payload = claimed["payload"]
        if isinstance(payload, str):
            payload = json.loads(payload)
        try:
            await anyio.to_thread.run_sync(_publish, claimed["task"], payload, message_id)
        except Exception as exc:  # the broker is down: the drain task tries again later
            log.warning("outbox.publish_failed", message_id=message_id, task=claimed["task"], error=str(exc))
            await db.execute(
                "UPDATE outbox SET sent_at = NULL, last_error = {} WHERE id = {}", str(exc)[:500], message_id
            )
        else:
            sent += 1
    return sent


async def drain(limit: int = 500, grace_seconds: int = DRAIN_GRACE_SECONDS) -> int:
    """Send rows still unsent after the grace period (broker was down, process died)."""
    cutoff = datetime.now(UTC) - timedelta(seconds=grace_seconds)
    rows = await (
        OutboxMessage.select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_null(), OutboxMessage.created_at <= cutoff)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return await send_messages([int(r["id"]) for r in rows])


async def pending_count() -> int:
    return await OutboxMessage.count().where(OutboxMessage.sent_at.is_null())
