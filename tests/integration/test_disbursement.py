"""Tranches: plan from the workflow file, request → authorize → pay / fail, idempotency, bank files."""

from __future__ import annotations

import uuid

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.finance2 = w.api.make_user("finance", ["13"])
    w.jakarta_finance = w.api.make_user("finance", ["31"])
    return w


def tranches(world, app_id, user=None):
    r = world.get(f"/api/v1/applications/{app_id}/tranches", user or world.finance)
    assert r.status_code == 200, r.text
    return r.json()


def act(world, tranche_id, action, user, body=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return world.post(f"/api/v1/tranches/{tranche_id}/actions/{action}", user, body or {}, headers=headers)


def pay_body(ref="BRI-20200415-0001", paid_at=None):
    return {"transfer_reference": ref, "paid_at": (paid_at or today()).isoformat()}


def totals(world, app_id):
    return world.get(f"/api/v1/applications/{app_id}/funds-trail", world.finance).json()["totals"]


def active(world, name):
    group = world.make_group(world.applicant, name=name)
    return world.to_state(world.new_application(group=group)["id"], "active")


def test_plan_follows_the_workflow_file(world):
    app = active(world, "Kelompok Termin")
    plan = tranches(world, app["id"])
    by = {}
    for t in plan:
        by.setdefault(t["component"], []).append(t)
    approved = app["approved_budget"]
    for component, items in by.items():
        assert sum(t["amount"] for t in items) == approved[component]
        assert [t["seq"] for t in items] == list(range(1, len(items) + 1))
    assert [t["amount"] for t in by["capital"]] == [7_000_000, 3_000_000]
    assert [t["due_condition"] for t in by["capital"]] == ["on_approval", "after_first_accepted_report"]
    assert len(by["wages"]) == 3 and by["wages"][0]["due_condition"] == "after_accepted_reports"
    assert all(t["status"] == "planned" for t in plan)
    assert plan[0]["reference"].startswith(f"TKM-{app['id']}-")


def test_request_authorize_pay_fail_and_request_again(world):
    app = active(world, "Kelompok Cair")
    capital1 = next(t for t in tranches(world, app["id"]) if t["component"] == "capital" and t["seq"] == 1)
    tid = capital1["id"]
    assert act(world, tid, "authorize", world.finance).status_code == 409  # not requested yet
    r = act(world, tid, "request", world.finance)
    assert r.status_code == 200 and r.json()["status"] == "requested"
    r = act(world, tid, "authorize", world.finance)
    assert r.status_code == 403, "the requester may not authorize"
    assert act(world, tid, "authorize", world.jakarta_finance).status_code == 404
    assert act(world, tid, "authorize", world.reviewer).status_code == 403
    r = act(world, tid, "authorize", world.finance2)
    assert r.status_code == 200 and r.json()["status"] == "authorized"

    for bad, field in (
        ({"paid_at": today().isoformat()}, "transfer_reference"),
        ({"transfer_reference": "X1", "paid_at": "2999-01-01"}, "paid_at"),
        ({"transfer_reference": "X1", "paid_at": "15/04/2020"}, "paid_at"),
        ({"transfer_reference": "X1", "paid_at": today().isoformat(), "amount": 5}, "amount"),
    ):
        r = act(world, tid, "pay", world.finance, bad)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (bad, r.text)
    before = totals(world, app["id"])
    r = act(world, tid, "pay", world.finance, pay_body())
    assert r.status_code == 200 and r.json()["status"] == "paid" and r.json()["paid_at"] == today().isoformat()
    after = totals(world, app["id"])
    assert after["disbursed"] - before["disbursed"] == 7_000_000

    r = act(world, tid, "fail", world.finance, {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = act(world, tid, "fail", world.finance, {"reason": "Rekening tidak aktif"})
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["paid_at"] is None
    assert totals(world, app["id"])["disbursed"] == before["disbursed"], "a reversal returns the money"
    trail = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.finance).json()["entries"]
    assert any(e["kind"] == "reversal" for e in trail)
    assert act(world, tid, "request", world.finance2).status_code == 200, "a failed tranche can be requested again"


def test_unmet_condition_is_409_with_the_reason(world):
    app = active(world, "Kelompok Syarat")
    capital2 = next(t for t in tranches(world, app["id"]) if t["component"] == "capital" and t["seq"] == 2)
    r = act(world, capital2["id"], "request", world.finance)
    assert r.status_code == 409
    assert r.json()["condition"] == "after_first_accepted_report" and r.json()["detail"]


def test_money_moves_only_while_active_and_suspension_freezes(world):
    group = world.make_group(world.applicant, name="Kelompok Beku")
    app = world.to_state(world.new_application(group=group)["id"], "approved")
    first = tranches(world, app["id"])[0]
    assert act(world, first["id"], "request", world.finance).status_code == 409, "agreement not signed yet"
    world.to_state(app["id"], "active")
    assert act(world, first["id"], "request", world.finance).status_code == 200
    assert world.act(app["id"], "suspend", world.approver, {"reasons": "Laporan fiktif"}).status_code == 200
    assert {t["status"] for t in tranches(world, app["id"])} == {"frozen"}
    r = act(world, first["id"], "authorize", world.finance2)
    assert r.status_code == 409


def test_idempotency_key_replays_and_refuses_a_different_body(world):
    app = active(world, "Kelompok Kunci")
    tid = next(t for t in tranches(world, app["id"]) if t["component"] == "product_development")["id"]
    act(world, tid, "request", world.finance)
    act(world, tid, "authorize", world.finance2)
    key = str(uuid.uuid4())
    first = act(world, tid, "pay", world.finance, pay_body("BNI-1"), key=key)
    again = act(world, tid, "pay", world.finance, pay_body("BNI-1"), key=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    assert totals(world, app["id"])["disbursed"] == first.json()["amount"], "paid once"
    other = act(world, tid, "pay", world.finance, pay_body("BNI-2"), key=key)
    assert other.status_code == 409
    assert act(world, tid, "pay", world.finance, pay_body("BNI-3"), key="short").status_code == 422


def test_payment_batch_and_bank_statement(world):
    app = active(world, "Kelompok Bank")
    plan = [t for t in tranches(world, app["id"]) if t["due_condition"] == "on_approval"]
    for t in plan:
        act(world, t["id"], "request", world.finance)
        act(world, t["id"], "authorize", world.finance2)
    r = world.get("/api/v1/payment-batches?status=authorized&format=csv", world.finance)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = [line.split(",") for line in r.text.strip().splitlines()]
    assert rows[0][:5] == ["reference", "bank", "account_number", "account_holder", "amount"]
    listed = {row[0]: row for row in rows[1:]}
    for t in plan:
        assert listed[t["reference"]][4] == str(t["amount"]) and listed[t["reference"]][2] == "002101000123567"
    jakarta = world.get("/api/v1/payment-batches?status=authorized&format=csv", world.jakarta_finance).text
    assert plan[0]["reference"] not in jakarta
    assert world.get("/api/v1/payment-batches", world.applicant).status_code == 403

    capital, dev = plan[0], plan[1]
    statement = (
        "reference;amount;date;transfer_reference\n"
        f"{capital['reference']};{capital['amount']};{today().isoformat()};BRI-777\n"
        f"{dev['reference']};{dev['amount'] + 1};{today().isoformat()};BRI-778\n"
        f"TKM-999999-CAP1;1000;{today().isoformat()};BRI-779\n"
        f"{capital['reference']};{capital['amount']};{today().isoformat()};BRI-780\n"
        f"{dev['reference']};-5;{today().isoformat()};BRI-781\n"
    )
    r = world.client.post(
        "/api/v1/bank-statements",
        headers=world.finance["headers"],
        files={"file": ("mutasi.csv", statement.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert [m["reference"] for m in result["matched"]] == [capital["reference"]]
    reasons = {u["line"]: u["reason"] for u in result["unmatched"]}
    assert set(reasons) == {3, 4, 5, 6}
    by_id = {t["id"]: t for t in tranches(world, app["id"])}
    assert by_id[capital["id"]]["status"] == "paid" and by_id[capital["id"]]["transfer_reference"] == "BRI-777"
    assert by_id[dev["id"]]["status"] == "authorized", "a mismatched line changes nothing"

    for bad in (b"\x89PNG\r\n\x1a\n\x00\x00", b"ref,total\nA,1\n", b"reference,amount\n"):
        r = world.client.post(
            "/api/v1/bank-statements", headers=world.finance["headers"], files={"file": ("x.csv", bad, "text/csv")}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file", r.text
    assert {t["id"]: t["status"] for t in tranches(world, app["id"])} == {i: t["status"] for i, t in by_id.items()}
    assert (
        world.client.post(
            "/api/v1/bank-statements",
            headers=world.reviewer["headers"],
            files={"file": ("x.csv", statement.encode(), "text/csv")},
        ).status_code
        == 403
    )


def test_action_bodies_that_are_not_a_json_object_are_refused(world):
    """Tranche and application actions take an optional JSON object; anything else names ``body``."""
    app = active(world, "Kelompok Badan Permintaan")
    tranche = tranches(world, app["id"])[0]
    for path in (
        f"/api/v1/tranches/{tranche['id']}/actions/request",
        f"/api/v1/applications/{app['id']}/actions/suspend",
    ):
        headers = {**world.finance["headers"], "content-type": "application/json"}
        broken = world.client.post(path, content=b'{"reason": ', headers=headers)
        assert broken.status_code == 400, broken.text
        assert broken.json()["errors"][0]["field"] == "body"
        listed = world.client.post(path, content=b"[1, 2]", headers=headers)
        assert listed.status_code == 422, listed.text
        assert listed.json()["errors"][0]["field"] == "body"
    assert tranches(world, app["id"])[0]["status"] == "planned"  # nothing moved
    # An empty body is an empty object: the request goes through.
    empty = world.client.post(f"/api/v1/tranches/{tranche['id']}/actions/request", headers=world.finance["headers"])
    assert empty.status_code == 200, empty.text
