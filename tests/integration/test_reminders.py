"""Reminders for missing reports: once per group and period, whatever the reruns and the number of workers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from tests.conftest import every_broker
from tests.support.api import Api
from tests.support.factories import World
from tkm.testing import processes
from tkm.testing.time_travel import approve_in_the_past, period

pytestmark = [pytest.mark.slow, every_broker]


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def notifications(api, like):
    from tkm.notifications.tables import Notification

    return api.call(
        lambda: Notification.select(Notification.key, Notification.recipient, Notification.sent_at).where(
            Notification.key.like(like)
        )
    )


def test_reminders_once_per_group_and_period(world, settings, env, tmp_path_factory):
    from tkm.reports import reminders
    from tkm.worker import celery_app

    late = world.to_state(
        world.new_application(group=world.make_group(world.applicant, name="Kelompok Lupa"))["id"], "active"
    )
    approve_in_the_past(world.api, late["id"], 2)
    diligent = world.to_state(
        world.new_application(group=world.make_group(world.applicant, name="Kelompok Rajin"))["id"], "active"
    )
    approve_in_the_past(world.api, diligent["id"], 2)
    r = world.post(
        f"/api/v1/applications/{diligent['id']}/reports",
        world.applicant,
        {
            "period": period(1),
            "production": [],
            "sales": [],
            "expenses": [],
            "reinvested": 0,
            "workers": 5,
            "wages_paid": 0,
        },
    )
    assert r.status_code == 201, r.text

    today = dt.date.today()
    before_due = today.replace(day=5)
    result = world.api.call(reminders.send_reminders, before_due)
    assert result == {"applicants": 0, "reviewers": 0}, "nothing before the programme's due day (10th)"

    # Run the real task three times, by two workers at once on the real broker.
    logs = tmp_path_factory.mktemp("worker-logs")
    workers = [processes.start_worker(env, logs) for _ in range(2)]
    try:
        processes.wait_for_workers(celery_app, 2, timeout=60, proc=workers[0])
        results = []

        on = today.replace(day=20)  # past the due day (10th) and the grace days (7)

        def fire():
            results.append(
                celery_app.send_task("tkm.reports.send_reminders", kwargs={"on": on.isoformat()}, ignore_result=True)
            )

        threads = [threading.Thread(target=fire) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        import time

        key = f"reminder-{late['id']}-{period(1)}-applicant"
        deadline = time.monotonic() + 180  # generous: CI machines are slow and share their cores
        while time.monotonic() < deadline:
            sent = [n for n in notifications(world.api, key) if n["sent_at"] is not None]
            mail = settings.data_dir / "outbox" / f"{key}.eml"
            if sent and mail.exists():
                break
            time.sleep(0.3)
        time.sleep(3)  # let any duplicate work finish before counting
        assert [n["recipient"] for n in notifications(world.api, key)] == [world.applicant["email"]], (
            workers[0].log()[-2000:] + workers[1].log()[-2000:]
        )
        assert (settings.data_dir / "outbox" / f"{key}.eml").exists()
        assert notifications(world.api, f"reminder-{diligent['id']}-%") == []
        # Past the grace days the region's reviewers were told too, also once each.
        reviewer_keys = [n["key"] for n in notifications(world.api, f"reminder-{late['id']}-%-reviewer-%")]
        assert f"reminder-{late['id']}-{period(1)}-reviewer-{world.reviewer['email']}" in reviewer_keys
        assert len(reviewer_keys) == len(set(reviewer_keys))
        out = sorted(p.name for p in (settings.data_dir / "outbox").glob(f"reminder-{late['id']}-*-applicant*"))
        assert out == [f"{key}.eml"]
    finally:
        for w in workers:
            w.stop()
    for _ in range(3):
        world.api.call(reminders.send_reminders, on)
    assert len(notifications(world.api, f"reminder-{late['id']}-%")) == 1 + len(reviewer_keys)
