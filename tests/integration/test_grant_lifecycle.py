"""A grant from application to completion through the API: money in, reports, money out, completion."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today
from tkm.testing.time_travel import approve_in_the_past, period


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.finance2 = w.api.make_user("finance", ["13"])
    return w


def test_whole_grant(world):
    group = world.make_group(world.applicant, name="Kelompok Tuntas")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], 2)
    approved = sum(app["approved_budget"].values())

    def pay_ready():
        paid = 0
        for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json():
            if t["status"] in ("planned", "failed"):
                r = world.post(f"/api/v1/tranches/{t['id']}/actions/request", world.finance, {})
                if r.status_code != 200:
                    assert r.status_code == 409, r.text  # its condition is not met yet
                    continue
            if world.post(f"/api/v1/tranches/{t['id']}/actions/authorize", world.finance2, {}).status_code == 200:
                r = world.post(
                    f"/api/v1/tranches/{t['id']}/actions/pay",
                    world.finance,
                    {"transfer_reference": f"BRI-{t['reference']}", "paid_at": today().isoformat()},
                )
                assert r.status_code == 200, r.text
                paid += 1
        return paid

    assert pay_ready() == 3  # capital 70 %, product development, first wages
    for i, p in enumerate((period(2), period(1), period(0))):
        world.accepted_report(
            app["id"],
            period=p,
            production=[{"product": "masker", "unit": "pcs", "quantity": 3000}],
            sales=[{"product": "masker", "quantity": 2500, "revenue": 12_500_000}],
            expenses=[
                {"category": "raw_materials", "amount": 3_000_000, "source": "grant", "component": "capital"},
                {"category": "equipment", "amount": 2_000_000, "source": "sales"},
            ],
            reinvested=2_000_000,
            wages_paid=1_000_000,
            final=i == 2,
        )
        pay_ready()
    tranches = world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
    assert {t["status"] for t in tranches} == {"paid"}
    totals = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.applicant).json()["totals"]
    assert totals["approved"] == totals["disbursed"] == approved
    # Spent: 9 million of grant money (capital) and 6 million of the group's own sales money (reinvested).
    assert totals["spent"] == 15_000_000 and totals["revenue"] == 37_500_000 and totals["reinvested"] == 6_000_000
    assert (totals["grant_spent"], totals["own_spent"]) == (9_000_000, 6_000_000)
    assert totals["by_component"]["capital"]["grant_spent"] == 9_000_000
    assert totals["unspent"] == totals["grant_unspent"] == approved - 9_000_000
    assert totals["own_balance"] == 37_500_000 - 6_000_000
    # The grant money left unspent goes back to the treasury before the grant is completed.
    r = world.act(app["id"], "complete", world.reviewer, {"notes": "Hibah selesai."})
    assert r.status_code == 409 and r.json()["grant_unspent"] == totals["unspent"], r.text
    world.return_unspent(app["id"], totals["unspent"])
    r = world.act(app["id"], "complete", world.reviewer, {"notes": "Hibah selesai."})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    totals = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.applicant).json()["totals"]
    assert (totals["unspent"], totals["returned"]) == (0, approved - 9_000_000)
