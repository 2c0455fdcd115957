"""A task sent by the web app runs in a real Celery worker, on the filesystem broker and on Redis.

Signing up queues a welcome e-mail (outbox row, sent after commit); the worker
delivers it into TKM_DATA_DIR/outbox. Also: /health counts live workers, and a
broker outage loses nothing.
"""

from __future__ import annotations

import time
from email import message_from_bytes
from pathlib import Path

import pytest

from tests.conftest import apply_env, every_broker
from tests.support.api import PASSWORD
from tkm.testing import processes

pytestmark = [pytest.mark.slow, every_broker]


@pytest.fixture(scope="module")
def worker(settings, env, tmp_path_factory):
    from tkm.worker import celery_app

    proc = processes.start_worker(env, tmp_path_factory.mktemp("logs"))
    try:
        processes.wait_for_workers(celery_app, 1, timeout=60, proc=proc)
        yield proc
    finally:
        proc.stop()


def _wait_for(path: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return False


def test_health_reports_database_broker_and_live_workers(client, worker):
    body = client.get("/health").json()
    assert body == {"database": "ok", "broker": "ok", "workers": 1}


def _user_id(api, email):
    from tkm.auth.tables import User

    return api.call(User.select(User.id).where(User.email == email).first().run)["id"]


def test_signup_mail_is_delivered_by_the_worker(client, api, settings, worker):
    from tkm.notifications.tables import Notification

    email = api.unique_email("ketua")
    r = client.post("/api/v1/auth/register", json={"email": email, "name": "Siti", "password": PASSWORD})
    assert r.status_code == 201
    user_id = _user_id(api, email)  # the answer names no id: it is the same for a taken address
    mail = settings.data_dir / "outbox" / f"welcome-{user_id}.eml"
    assert _wait_for(mail), "the worker wrote no mail:\n" + worker.log()[-3000:]
    msg = message_from_bytes(mail.read_bytes())
    assert msg["To"] == email and "TKM" in msg["Subject"]

    async def sent_at():
        return await Notification.select(Notification.sent_at).where(Notification.key == f"welcome-{user_id}").first()

    deadline = time.monotonic() + 10
    while api.call(sent_at)["sent_at"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api.call(sent_at)["sent_at"] is not None
    # A second run of the same task (a redelivery) sends nothing twice.
    from tkm.notifications import services

    nid = api.call(lambda: Notification.select(Notification.id).where(Notification.key == f"welcome-{user_id}").first())
    assert api.call(services.send, nid["id"]) == "already-sent"


def test_broker_outage_loses_nothing(client, api, env, settings, worker, broker):
    """With the broker unreachable the sign-up still commits; the drain sends the task once it is back."""
    from tkm.core import outbox
    from tkm.core.tables import OutboxMessage

    broken = dict(env)
    broken["TKM_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    apply_env(broken)
    try:
        email = api.unique_email("offline")
        r = client.post("/api/v1/auth/register", json={"email": email, "name": "Offline", "password": PASSWORD})
        assert r.status_code == 201
        user_id = _user_id(api, email)
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["broker"] == "error"
    finally:
        apply_env(env)

    async def unsent():
        return await OutboxMessage.count().where(OutboxMessage.sent_at.is_null())

    assert api.call(unsent) >= 1
    rows = api.call(lambda: OutboxMessage.select(OutboxMessage.last_error).where(OutboxMessage.sent_at.is_null()))
    assert all(r["last_error"] for r in rows), [(r["id"], r["last_error"]) for r in rows]
    assert api.call(outbox.drain, 500, 0) >= 1  # what the periodic drain task does
    assert api.call(unsent) == 0
    mail = settings.data_dir / "outbox" / f"welcome-{user_id}.eml"
    assert _wait_for(mail), worker.log()[-3000:]
