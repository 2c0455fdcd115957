"""Queue a notification with the change that causes it; a worker delivers it once."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import structlog

from tkm.core import db, outbox
from tkm.core.settings import get_settings
from tkm.notifications.mail import build_message, deliver
from tkm.notifications.tables import Notification

log = structlog.get_logger(__name__)

SEND_TASK = "tkm.notifications.send"


async def notify(key: str, recipient: str, subject: str, body: str) -> int | None:
    """Create the notification ``key`` unless it exists; returns its id, or None when it already existed."""
    async with db.transaction():
        row = await db.fetch_one(
            "INSERT INTO notifications (key, recipient, subject, body, created_at, attempts, last_error) "
            "VALUES ({}, {}, {}, {}, {}, 0, '') ON CONFLICT (key) DO NOTHING RETURNING id",
            key,
            recipient,
            subject,
            body,
            datetime.now(UTC),
        )
        if row is None:
            return None
        notification_id = int(row["id"])
        await outbox.enqueue(SEND_TASK, {"notification_id": notification_id})
        return notification_id


async def send(notification_id: int) -> str:
    """Deliver one notification; a repeated call for a sent one does nothing."""
    note = await Notification.objects().where(Notification.id == notification_id).first()
    if note is None:
        return "missing"
    if note.sent_at is not None:
        return "already-sent"
    settings = get_settings()
    msg = build_message(note.recipient, note.subject, note.body, note.key)
    try:
        where = await anyio.to_thread.run_sync(deliver, settings, msg, note.key)
    except Exception as exc:
        await Notification.update(
            {Notification.attempts: Notification.attempts + 1, Notification.last_error: str(exc)[:500]}
        ).where(Notification.id == notification_id)
        raise
    await Notification.update(
        {Notification.sent_at: datetime.now(UTC), Notification.attempts: Notification.attempts + 1}
    ).where(Notification.id == notification_id, Notification.sent_at.is_null())
    log.info("notification.sent", notification_id=notification_id, to=note.recipient, via=where)
    return "sent"
