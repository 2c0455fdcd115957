"""Monthly reports: every rule is a 422 naming the field; the review cycle; postings to the funds trail."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.time_travel import approve_in_the_past, period


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.outsider = w.api.make_user("reviewer", ["31"])
    return w


def report(p, **overrides):
    body = {
        "period": p,
        "production": [
            {"product": "masker", "unit": "pcs", "quantity": 2200},
            {"product": "hand_sanitizer", "unit": "liter", "quantity": 1500},
        ],
        "sales": [
            {"product": "masker", "quantity": 2000, "revenue": 10_000_000},
            {"product": "hand_sanitizer", "quantity": 1000, "revenue": 25_000_000},
        ],
        "expenses": [{"category": "raw_materials", "amount": 6_000_000}, {"category": "wages", "amount": 4_000_000}],
        "reinvested": 7_000_000,
        "workers": 12,
        "wages_paid": 4_000_000,
        "notes": "Pesanan dari apotek naik.",
        "final": False,
    }
    body.update(overrides)
    return body


def active_app(world, name, months=3):
    group = world.make_group(world.applicant, name=name)
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], months)
    return app


def file(world, app, body, user=None):
    return world.post(f"/api/v1/applications/{app['id']}/reports", user or world.applicant, body)


def fields(r):
    return [e["field"] for e in r.json().get("errors", [])]


def test_file_review_correct_and_accept(world):
    app = active_app(world, "Kelompok Lapor")
    r = file(world, app, report(period(2)))
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["status"] == "submitted" and rep["revenue"] == 35_000_000 and rep["expenses_total"] == 10_000_000
    assert rep["reinvestment_rate"] == pytest.approx(0.2)
    path = f"/api/v1/reports/{rep['id']}"

    assert world.post(path + "/actions/accept", world.applicant, {}).status_code == 403
    assert world.post(path + "/actions/accept", world.outsider, {}).status_code == 404
    r = world.post(path + "/actions/request_revision", world.reviewer, {})
    assert r.status_code == 422 and fields(r) == ["notes"]
    r = world.post(path + "/actions/request_revision", world.reviewer, {"notes": "Rincian upah belum ada."})
    assert r.status_code == 200 and r.json()["status"] == "revision_requested"
    assert world.post(path + "/actions/accept", world.reviewer, {}).status_code == 409

    corrected = report(
        period(2),
        expenses=[{"category": "raw_materials", "amount": 6_000_000}, {"category": "wages", "amount": 4_500_000}],
    )
    r = world.client.put(path, json=corrected, headers={**world.applicant["headers"], "If-Match": '"1"'})
    assert r.status_code == 412
    r = world.client.put(path, json=corrected, headers={**world.applicant["headers"], "If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["expenses_total"] == 10_500_000

    before = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.reviewer).json()["totals"]
    r = world.post(path + "/actions/accept", world.reviewer, {"notes": "Lengkap."})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert [h["action"] for h in r.json()["history"]] == ["submit", "request_revision", "resubmit", "accept"]
    after = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.reviewer).json()["totals"]
    assert after["spent"] - before["spent"] == 10_500_000
    assert after["revenue"] - before["revenue"] == 35_000_000
    assert after["reinvested"] - before["reinvested"] == 7_000_000
    assert world.post(path + "/actions/accept", world.reviewer, {}).status_code == 409
    listed = world.get(f"/api/v1/applications/{app['id']}/reports", world.applicant).json()
    assert [x["period"] for x in listed] == [period(2)]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"period": "2020-4"}, "period"),
        ({"period": "2020-13"}, "period"),
        ({"production": [{"product": "masker", "unit": "pcs", "quantity": -1}]}, "production[0].quantity"),
        ({"production": [{"product": "masker", "unit": "pcs", "quantity": 1.5}]}, "production[0].quantity"),
        ({"sales": [{"product": "masker", "quantity": 10, "revenue": 1000.5}]}, "sales[0].revenue"),
        ({"sales": [{"product": "masker", "quantity": 10, "revenue": -5}]}, "sales[0].revenue"),
        ({"expenses": [{"category": "holiday", "amount": 5}]}, "expenses[0].category"),
        ({"expenses": [{"category": "other", "amount": "5"}]}, "expenses[0].amount"),
        ({"reinvested": -1}, "reinvested"),
        ({"workers": -2}, "workers"),
        ({"wages_paid": 1.25}, "wages_paid"),
    ],
)
def test_bad_values_name_the_field(world, patch, field):
    app = active_app(world, f"Kelompok Salah {field}")
    r = file(world, app, report(period(1), **patch))
    assert r.status_code == 422, r.text
    assert field in fields(r)


def test_period_window_one_per_period_and_stock(world):
    app = active_app(world, "Kelompok Periode", months=2)
    r = file(world, app, report(period(3)))
    assert r.status_code == 422 and fields(r) == ["period"], "before the month of approval"
    r = file(world, app, report(period(-1)))
    assert r.status_code == 422 and fields(r) == ["period"], "a month that has not started"
    month1 = report(
        period(2),
        production=[{"product": "masker", "unit": "pcs", "quantity": 100}],
        sales=[{"product": "masker", "quantity": 60, "revenue": 300_000}],
        reinvested=0,
        expenses=[],
    )
    assert file(world, app, month1).status_code == 201
    assert file(world, app, month1).status_code == 409
    too_many = report(
        period(1),
        production=[],
        sales=[{"product": "masker", "quantity": 41, "revenue": 205_000}],
        reinvested=0,
        expenses=[],
    )
    r = file(world, app, too_many)
    assert r.status_code == 422 and fields(r) == ["sales[0].quantity"], "only 40 left in stock"
    enough = report(
        period(1),
        production=[],
        sales=[{"product": "masker", "quantity": 40, "revenue": 200_000}],
        reinvested=0,
        expenses=[],
    )
    assert file(world, app, enough).status_code == 201


def test_reinvested_cannot_exceed_revenue_plus_unspent_grant(world):
    app = active_app(world, "Kelompok Investasi")
    totals = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.applicant).json()["totals"]
    limit = 35_000_000 + max(0, totals["unspent"])
    r = file(world, app, report(period(1), reinvested=limit + 1))
    assert r.status_code == 422 and fields(r) == ["reinvested"]
    assert file(world, app, report(period(1), reinvested=limit)).status_code == 201


def test_who_may_file_and_when(world):
    approved = world.to_state(
        world.new_application(group=world.make_group(world.applicant, name="Kelompok Baru"))["id"], "approved"
    )
    r = file(world, approved, report(period(0)))
    assert r.status_code == 409, "not active until the agreement is signed"
    app = active_app(world, "Kelompok Hak")
    assert file(world, app, report(period(1)), user=world.api.make_user("applicant")).status_code == 404
    assert file(world, app, report(period(1)), user=world.reviewer).status_code == 403


def test_final_report_gates_completion(world):
    app = active_app(world, "Kelompok Akhir", months=1)
    r = world.act(app["id"], "complete", world.reviewer, {"notes": "selesai"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "reports"
    rep = file(world, app, report(period(0), final=True)).json()
    assert world.post(f"/api/v1/reports/{rep['id']}/actions/accept", world.reviewer, {}).status_code == 200
    assert file(world, app, report(period(1), final=True)).status_code == 409, "one final report"
    r = world.act(app["id"], "complete", world.reviewer, {"notes": "selesai"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "tranches", "and every tranche paid"


def test_reviewer_queue(world):
    app = active_app(world, "Kelompok Antre")
    rep = file(world, app, report(period(1))).json()
    queue = world.get("/api/v1/reports?status=submitted", world.reviewer).json()
    assert rep["id"] in [x["id"] for x in queue["items"]]
    assert world.get("/api/v1/reports?status=submitted", world.outsider).json()["total"] == 0
    assert world.get("/api/v1/reports", world.api.make_user("applicant")).json()["total"] == 0
