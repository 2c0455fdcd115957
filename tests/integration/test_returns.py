"""Returns to the state treasury: a group's unspent grant money deposited back, with its NTPN; completion waits
for it (or for the approver's waiver)."""

from __future__ import annotations

import uuid

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def funded(world, name):
    """An active grant with its first tranches paid and nothing spent yet."""
    group = world.make_group(world.applicant, name=name)
    app = world.to_state(world.new_application(group=group)["id"], "active")
    world.pay_all(app["id"])
    return app


def totals(world, app_id):
    return world.get(f"/api/v1/applications/{app_id}/funds-trail", world.finance).json()["totals"]


def proof(world, app_id):
    r = world.upload(app_id, "receipt", filename="bukti-setor.pdf")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def body(world, app_id, **fields):
    return {
        "amount": 1_000_000,
        "deposited_on": today().isoformat(),
        "ntpn": uuid.uuid4().hex[:16].upper(),
        "attachment_id": proof(world, app_id),
        **fields,
    }


def test_a_return_posts_to_the_trail_issues_a_receipt_and_is_idempotent(world):
    app = funded(world, "Kelompok Setor")
    before = totals(world, app["id"])
    assert before["unspent"] > 1_000_000
    request = body(world, app["id"], amount=1_250_000)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    r = world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, request, headers=key)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["amount"] == 1_250_000 and sum(first["by_component"].values()) == 1_250_000
    again = world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, request, headers=key)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    after = totals(world, app["id"])
    assert after["returned"] == 1_250_000
    assert after["unspent"] == before["unspent"] - 1_250_000
    assert after["disbursed"] - after["grant_spent"] - after["returned"] == after["unspent"]
    trail = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.finance).json()["entries"]
    assert [e["amount"] for e in trail if e["kind"] == "return"] == [
        first["by_component"][c] for c in first["by_component"]
    ]
    assert trail[-1]["balance_after"] == after["unspent"]
    listed = world.get(f"/api/v1/applications/{app['id']}/returns", world.applicant).json()
    assert [(x["id"], x["ntpn"]) for x in listed] == [(first["id"], request["ntpn"])]
    docs = world.get(f"/api/v1/applications/{app['id']}/documents", world.finance).json()
    assert [d["id"] for d in docs if d["kind"] == "return_receipt"] == [first["document_id"]]


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"amount": 0}, 422, "amount"),
        ({"amount": "1000"}, 422, "amount"),
        ({"ntpn": "1234"}, 422, "ntpn"),
        ({"ntpn": "12345678901234567"}, 422, "ntpn"),
        ({"deposited_on": "2999-01-01"}, 422, "deposited_on"),
        ({"deposited_on": "kemarin"}, 422, "deposited_on"),
        ({"attachment_id": None}, 422, "attachment_id"),
        ({"attachment_id": 999_999}, 422, "attachment_id"),
        ({"amount": 10**12}, 409, "amount"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_returns_name_the_field_and_write_nothing(world, fields, status, field):
    app = funded(world, f"Kelompok Salah {field}")
    before = totals(world, app["id"])
    r = world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, body(world, app["id"], **fields))
    assert r.status_code == status, r.text
    assert field in {e["field"] for e in r.json().get("errors", [])}, r.text
    assert totals(world, app["id"]) == before
    assert world.get(f"/api/v1/applications/{app['id']}/returns", world.finance).json() == []


def test_only_finance_records_and_an_ntpn_counts_once(world):
    app = funded(world, "Kelompok Peran")
    request = body(world, app["id"])
    for user in (world.applicant, world.reviewer, world.approver):
        assert world.post(f"/api/v1/applications/{app['id']}/returns", user, request).status_code == 403
    assert world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, request).status_code == 201
    r = world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, {**request, "amount": 5})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "ntpn", r.text


def test_completion_waits_for_the_unspent_money_or_a_waiver(world):
    from tkm.testing.time_travel import approve_in_the_past, period

    app_id = world.to_state(
        world.new_application(group=world.make_group(world.applicant, name="Kelompok Akhir"))["id"], "active"
    )["id"]
    approve_in_the_past(world.api, app_id, 1)
    for n, final in ((1, False), (0, True)):
        world.accepted_report(app_id, period=period(n), final=final)
    world.pay_all(app_id)
    unspent = totals(world, app_id)["unspent"]
    assert unspent > 0
    r = world.act(app_id, "complete", world.reviewer, {"notes": "Selesai."})
    assert r.status_code == 409 and r.json()["grant_unspent"] == unspent, r.text
    # The approver may waive the rest, with a reason the history keeps; then the grant completes.
    assert world.act(app_id, "waive_unspent", world.reviewer, {"reasons": "x"}).status_code == 403
    r = world.act(app_id, "waive_unspent", world.approver, {"reasons": "Sisa dana dipakai untuk alat, bukti menyusul."})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = world.act(app_id, "complete", world.reviewer, {"notes": "Selesai."})
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    waiver = [e for e in r.json()["history"] if e["action"] == "waive_unspent"]
    assert waiver and waiver[0]["notes"].startswith("Sisa dana dipakai")


def test_returning_everything_completes_with_zero_unspent(world):
    app = world.to_state(
        world.new_application(group=world.make_group(world.applicant, name="Kelompok Lunas"))["id"], "completed"
    )
    t = totals(world, app["id"])
    assert app["status"] == "completed" and t["unspent"] == 0 and t["returned"] + t["grant_spent"] == t["disbursed"]


def test_a_terminated_grant_returns_its_unspent_money(world):
    """Termination ends the grant early, but the group still deposits what it did not spend: the proof of deposit
    can be added and the return recorded after termination, down to zero unspent."""
    app = funded(world, "Kelompok Bubar")
    r = world.act(app["id"], "terminate", world.approver, {"reasons": "Kelompok bubar."})
    assert r.status_code == 200 and r.json()["status"] == "terminated", r.text
    unspent = totals(world, app["id"])["unspent"]
    assert unspent > 0
    r = world.post(f"/api/v1/applications/{app['id']}/returns", world.finance, body(world, app["id"], amount=unspent))
    assert r.status_code == 201, r.text
    after = totals(world, app["id"])
    assert after["unspent"] == 0 and after["returned"] == unspent and after["released"] > 0
    docs = world.get(f"/api/v1/applications/{app['id']}/documents", world.finance).json()
    assert [d["id"] for d in docs if d["kind"] == "return_receipt"] == [r.json()["document_id"]]
    # Only the proof of deposit may still be added to a terminated grant, not e.g. a new agreement.
    assert world.upload(app["id"], "agreement").status_code == 409
