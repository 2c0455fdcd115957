"""Monthly reports: every rule is a 422 naming the field; the review cycle; postings to the funds trail.

Every expense says who paid: the grant (per RAB component, up to what the group holds of it) or the group's
own sales money (up to its earlier own money plus the month's sales); ``reinvested`` is the sales-funded part.
"""

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
        # 3,000,000 of grant money (capital) and 7,000,000 of the group's own money: reinvested 7,000,000.
        "expenses": [
            {"category": "raw_materials", "amount": 3_000_000, "source": "grant", "component": "capital"},
            {"category": "raw_materials", "amount": 3_000_000, "source": "sales"},
            {"category": "wages", "amount": 4_000_000, "source": "sales"},
        ],
        "workers": 12,
        "wages_paid": 4_000_000,
        "notes": "Pesanan dari apotek naik.",
        "final": False,
    }
    body.update(overrides)
    return body


def active_app(world, name, months=3, paid=True):
    """An active grant approved ``months`` ago; ``paid``: the tranches due on approval are paid (the group holds
    7,000,000 of capital, 2,000,000 of product development and 1,333,333 of wages grant money, nothing of
    marketing)."""
    group = world.make_group(world.applicant, name=name)
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], months)
    if paid:
        world.pay_all(app["id"])
    return app


def totals(world, app):
    return world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.reviewer).json()["totals"]


def accept(world, rep):
    return world.post(f"/api/v1/reports/{rep['id']}/actions/accept", world.reviewer, {})


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
    assert rep["reinvested"] == 7_000_000, "derived: the expense lines paid from sales"
    assert rep["reinvestment_rate"] == pytest.approx(0.2)
    assert {(e["category"], e["source"], e["component"], e["amount"]) for e in rep["expenses"]} == {
        ("raw_materials", "grant", "capital", 3_000_000),
        ("raw_materials", "sales", None, 3_000_000),
        ("wages", "sales", None, 4_000_000),
    }
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
        expenses=[
            {"category": "raw_materials", "amount": 3_000_000, "source": "grant", "component": "capital"},
            {"category": "raw_materials", "amount": 3_000_000, "source": "sales"},
            {"category": "wages", "amount": 4_500_000, "source": "sales"},
        ],
    )
    r = world.client.put(path, json=corrected, headers={**world.applicant["headers"], "If-Match": '"1"'})
    assert r.status_code == 412
    r = world.client.put(path, json=corrected, headers={**world.applicant["headers"], "If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["expenses_total"] == 10_500_000
    assert r.json()["reinvested"] == 7_500_000

    before = totals(world, app)
    r = world.post(path + "/actions/accept", world.reviewer, {"notes": "Lengkap."})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert [h["action"] for h in r.json()["history"]] == ["submit", "request_revision", "resubmit", "accept"]
    after = totals(world, app)
    assert after["spent"] - before["spent"] == 10_500_000, "grant money and own money spent"
    assert after["grant_spent"] - before["grant_spent"] == 3_000_000
    assert after["unspent"] - before["unspent"] == -3_000_000
    assert after["by_component"]["capital"]["grant_spent"] - before["by_component"]["capital"]["grant_spent"] == (
        3_000_000
    )
    assert after["revenue"] - before["revenue"] == 35_000_000
    assert after["reinvested"] - before["reinvested"] == 7_500_000
    assert after["own_spent"] - before["own_spent"] == 7_500_000
    assert after["own_balance"] - before["own_balance"] == 35_000_000 - 7_500_000
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
        ({"expenses": [{"category": "other", "amount": "5", "source": "sales"}]}, "expenses[0].amount"),
        ({"expenses": [{"category": "other", "amount": -5, "source": "sales"}]}, "expenses[0].amount"),
        ({"expenses": [{"category": "other", "amount": 5}]}, "expenses[0].source"),
        ({"expenses": [{"category": "other", "amount": 5, "source": "bank"}]}, "expenses[0].source"),
        ({"expenses": [{"category": "other", "amount": 5, "source": "grant"}]}, "expenses[0].component"),
        (
            {"expenses": [{"category": "other", "amount": 5, "source": "grant", "component": "holiday"}]},
            "expenses[0].component",
        ),
        (
            {"expenses": [{"category": "other", "amount": 5, "source": "sales", "component": "capital"}]},
            "expenses[0].component",
        ),
        ({"reinvested": -1}, "reinvested"),
        ({"reinvested": "7000000"}, "reinvested"),
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


def test_grant_spending_per_component_stays_within_the_money_held(world):
    app = active_app(world, "Kelompok Hibah")
    held = totals(world, app)["by_component"]
    assert held["capital"]["unspent"] == 7_000_000 and held["marketing"]["unspent"] == 0
    assert held["wages"]["unspent"] == 1_333_333, "the first of three wage tranches"

    def grant_lines(*lines):
        return report(
            period(3),
            expenses=[
                {"category": "other", "amount": 1_000, "source": "sales"},
                *({"category": c, "amount": a, "source": "grant", "component": k} for c, k, a in lines),
            ],
        )

    r = file(world, app, grant_lines(("equipment", "capital", 4_000_000), ("raw_materials", "capital", 3_000_001)))
    assert r.status_code == 422 and fields(r) == ["expenses[1].amount"], "the first line of the component"
    r = file(world, app, grant_lines(("wages", "wages", 1_333_334)))
    assert r.status_code == 422 and fields(r) == ["expenses[1].amount"], "the later wage tranches are not paid"
    r = file(world, app, grant_lines(("equipment", "capital", 1_000), ("marketing", "marketing", 1)))
    assert r.status_code == 422 and fields(r) == ["expenses[2].amount"], "nothing paid for marketing yet"
    r = file(world, app, grant_lines(("equipment", "capital", 4_000_000), ("raw_materials", "capital", 3_000_000)))
    assert r.status_code == 201, r.text
    assert accept(world, r.json()).status_code == 200
    t = totals(world, app)
    assert t["by_component"]["capital"]["unspent"] == 0 and t["grant_spent"] == 7_000_000
    assert t["unspent"] == 2_000_000 + 1_333_333, "product development's and wages' money is still held"

    r = file(world, app, report(period(2)))
    assert r.status_code == 422 and fields(r) == ["expenses[0].amount"], "the capital money is all spent"
    r = file(
        world,
        app,
        report(
            period(2),
            expenses=[
                {"category": "other", "amount": 2_000_000, "source": "grant", "component": "product_development"}
            ],
        ),
    )
    assert r.status_code == 201, r.text


def test_own_spending_stays_within_the_groups_own_money(world):
    app = active_app(world, "Kelompok Mandiri", paid=False)
    assert totals(world, app)["unspent"] == 0, "no grant money paid yet"

    def spend(p, *amounts, revenue=5_000_000):
        sales = [{"product": "masker", "quantity": 1000, "revenue": revenue}] if revenue else []
        return report(
            p,
            sales=sales,
            expenses=[{"category": "raw_materials", "amount": a, "source": "sales"} for a in amounts],
        )

    r = file(world, app, spend(period(3), 3_000_000, 2_000_001))
    assert r.status_code == 422 and fields(r) == ["expenses[0].amount"], "more than this month's sales"
    r = file(world, app, spend(period(3), 1, revenue=0))
    assert r.status_code == 422 and fields(r) == ["expenses[0].amount"], "no own money at all"
    r = file(world, app, spend(period(3), 3_000_000, 1_000_000))
    assert r.status_code == 201, r.text
    assert r.json()["reinvested"] == 4_000_000 and r.json()["revenue"] == 5_000_000
    assert accept(world, r.json()).status_code == 200
    t = totals(world, app)
    assert t["own_balance"] == 1_000_000 and t["own_spent"] == t["reinvested"] == 4_000_000
    assert t["grant_spent"] == 0 and t["spent"] == 4_000_000

    # The earlier own money carries over: 1,000,000 left plus this month's 5,000,000.
    r = file(world, app, spend(period(2), 6_000_001))
    assert r.status_code == 422 and fields(r) == ["expenses[0].amount"]
    r = file(world, app, spend(period(2), 6_000_000))
    assert r.status_code == 201, r.text
    assert accept(world, r.json()).status_code == 200
    assert totals(world, app)["own_balance"] == 0


def test_reinvested_is_derived_from_the_sales_lines(world):
    app = active_app(world, "Kelompok Turunan")
    r = file(world, app, report(period(3), reinvested=7_000_001))
    assert r.status_code == 422 and fields(r) == ["reinvested"], "sent, it must be the sales-funded spending"
    r = file(world, app, report(period(3), reinvested=10_000_000))
    assert r.status_code == 422 and fields(r) == ["reinvested"], "grant-funded spending is not reinvestment"
    r = file(world, app, report(period(3), reinvested=7_000_000))
    assert r.status_code == 201 and r.json()["reinvested"] == 7_000_000
    r = file(
        world,
        app,
        report(period(2), expenses=[{"category": "other", "amount": 1, "source": "grant", "component": "capital"}]),
    )
    assert r.status_code == 201 and r.json()["reinvested"] == 0 and r.json()["expenses_total"] == 1


def test_neither_pool_goes_below_zero_when_reports_are_accepted(world):
    """Two reports filed while the money was there: the second accepted would spend money already spent."""
    app = active_app(world, "Kelompok Dua Laporan")
    capital = [{"category": "equipment", "amount": 5_000_000, "source": "grant", "component": "capital"}]
    first = file(world, app, report(period(3), expenses=capital))
    second = file(world, app, report(period(2), expenses=capital))
    assert first.status_code == 201 and second.status_code == 201, "each fits the 7,000,000 held when filed"
    assert accept(world, first.json()).status_code == 200
    r = accept(world, second.json())
    assert r.status_code == 409, r.text
    rep = world.get(f"/api/v1/reports/{second.json()['id']}", world.reviewer).json()
    assert rep["status"] == "submitted", "refused as a whole"
    t = totals(world, app)
    assert t["by_component"]["capital"]["unspent"] == 2_000_000 and t["grant_spent"] == 5_000_000


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
