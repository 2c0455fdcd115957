"""Letters rendered by a real Celery worker: after commit, delivered twice, and after a worker is SIGKILLed.

Real worker processes on the module's broker (the filesystem default and Redis)
and database (SQLite and PostgreSQL); real WeasyPrint.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import pytest

from tests.conftest import every_broker
from tests.support import letters
from tkm.testing import processes

pytestmark = [pytest.mark.slow, every_broker]

#: Enough funds-trail entries for a render that takes seconds (~40 pages), so a worker can be killed mid-way.
HEAVY_ENTRIES = 1500


@pytest.fixture(scope="module")
def cast(settings, module_client):
    from tests.support.api import Api

    return letters.make_cast(Api(module_client))


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return tmp_path_factory.mktemp("logs")


def start_worker(env, logs):
    from tkm.worker import celery_app

    proc = processes.start_worker(env, logs)
    try:
        processes.wait_for_workers(celery_app, 1, timeout=90, proc=proc)
    except Exception:
        proc.kill()
        raise
    return proc


def wait_until(check, timeout, what, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{proc.log()[-4000:]}" if proc else ""))


def pdf_files(settings, row):
    folder = settings.data_dir / "documents" / str(row["year"])
    return sorted(p.name for p in folder.glob(f"{row['id']}.*")) if folder.exists() else []


def issue_trail(api, application_id, key, entries):
    from tkm.core import db
    from tkm.documents import services

    trail = {
        "entries": [
            {"at": "2020-04-01T09:00:00+07:00", "kind": "spending", "component": "capital", "amount": 1_000 + i,
             "reference": f"NOTA-{i:05d}", "actor": "Bendahara kelompok", "balance_after": 15_000_000 - i}
            for i in range(entries)
        ],
        "totals": {"approved": 21_001_000, "disbursed": 15_000_000, "spent": 1_000_000, "revenue": 0,
                   "reinvested": 0, "unspent": 14_000_000, "grant_spent": 1_000_000, "grant_unspent": 14_000_000,
                   "own_spent": 0, "own_balance": 0, "returned": 0},
    }  # fmt: skip

    async def issue():
        async with db.transaction():
            return await services.issue("funds_trail", application_id=application_id, context_key=key, data=trail)

    return api.call(issue)


def test_a_letter_issued_by_an_action_is_rendered_by_the_worker(api, client, cast, env, logs):
    worker = start_worker(env, logs)
    try:
        grant = letters.make_grant(api, cast)
        grant.submit(api)  # commits the receipt and its outbox row; the task goes to the broker after commit
        receipt = letters.document_of(api, grant.application_id, "submission_receipt", grant.applicant["headers"])
        row = wait_until(
            lambda: (r := api.call(letters.document_row, receipt["id"]))["status"] == "ready" and r,
            90,
            "the receipt to be rendered",
            worker,
        )
        content = letters.download(api, receipt["id"], grant.applicant["headers"])
        assert hashlib.sha256(content).hexdigest() == row["sha256"]
        assert receipt["number"] in letters.pdf_text(content)
        assert row["attempts"] == 1 and row["error"] == ""
    finally:
        worker.stop()


def test_a_render_delivered_twice_makes_one_file_and_keeps_its_number(api, cast, env, settings, logs):
    from tkm.documents import services
    from tkm.worker import celery_app

    grant = letters.make_grant(api, cast)
    document_id = issue_trail(api, grant.application_id, "twice", 5)
    issued = api.call(letters.document_row, document_id)
    # Two more deliveries of the same task, besides the one the outbox sent after commit.
    for _ in range(2):
        celery_app.send_task(services.RENDER_TASK, kwargs={"document_id": document_id}, ignore_result=True)
    worker = start_worker(env, logs)
    try:
        wait_until(lambda: worker.log().count("'already-ready'") >= 2, 120, "all three deliveries", worker)
        row = api.call(letters.document_row, document_id)
    finally:
        worker.stop()
    assert row["status"] == "ready" and row["attempts"] == 1
    assert (row["number"], row["seq"]) == (issued["number"], issued["seq"])
    assert pdf_files(settings, row) == [f"{document_id}.pdf"]
    stored = (settings.data_dir / row["file_path"]).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == row["sha256"]


def test_a_worker_killed_mid_render_still_ends_with_the_letter_ready_once(api, cast, env, settings, logs):
    from tkm.documents import services
    from tkm.documents.tables import Document

    grant = letters.make_grant(api, cast)
    key = f"killed-{secrets.token_hex(4)}"
    first = start_worker(env, logs)
    try:
        document_id = issue_trail(api, grant.application_id, key, HEAVY_ENTRIES)
        issued = wait_until(
            lambda: (r := api.call(letters.document_row, document_id))["attempts"] >= 1 and r,
            90,
            "the render to start",
            first,
        )
        time.sleep(1.0)  # well inside a render that takes several seconds
        assert api.call(letters.document_row, document_id)["status"] == "pending", "render too fast to interrupt"
    finally:
        first.kill()  # SIGKILL to the worker and its pool: nothing acknowledges, nothing cleans up
    assert first.popen.returncode is not None
    assert api.call(letters.document_row, document_id)["status"] == "pending"

    second = start_worker(env, logs)
    try:
        # The filesystem broker lost the message when it was read; Redis keeps it unacknowledged until the
        # visibility timeout. Either way the periodic sweep sends the render again (here: without waiting).
        assert api.call(services.resend_stuck, 0) >= 1
        row = wait_until(
            lambda: (r := api.call(letters.document_row, document_id))["status"] == "ready" and r,
            180,
            "the second worker to finish the render",
            second,
        )
    finally:
        second.stop()
    assert row["attempts"] == 2
    assert (row["number"], row["seq"]) == (issued["number"], issued["seq"])
    assert pdf_files(settings, row) == [f"{document_id}.pdf"]
    assert hashlib.sha256((settings.data_dir / row["file_path"]).read_bytes()).hexdigest() == row["sha256"]
    trails = api.call(lambda: Document.count().where(Document.kind == "funds_trail", Document.subject_key == key))
    assert trails == 1
