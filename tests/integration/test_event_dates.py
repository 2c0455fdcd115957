"""Funds-trail entries are dated by the event (transfer date, last day of the report's period, deposit date),
and say when they were recorded."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today
from tkm.testing.time_travel import approve_in_the_past, period


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def test_entries_carry_the_day_the_money_moved(world):
    app_id = world.to_state(world.new_application()["id"], "active")["id"]
    approve_in_the_past(world.api, app_id, 2)
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{app_id}/tranches", world.finance).json()
        if t["due_condition"] == "on_approval"
    )
    refused = today() - dt.timedelta(days=30)
    tranche = world.pay(tranche, paid_on=refused)
    # The bank refuses it: the reversal is dated like the transfer it undoes; then it is paid again.
    r = world.post(f"/api/v1/tranches/{tranche['id']}/actions/fail", world.finance, {"reason": "Rekening ditutup."})
    assert r.status_code == 200, r.text
    transfer = today() - dt.timedelta(days=20)
    world.pay(r.json(), paid_on=transfer)
    report_period = period(1)
    world.accepted_report(app_id, period=report_period)
    world.return_unspent(app_id, 100_000, deposited_on=(today() - dt.timedelta(days=3)).isoformat())

    entries = world.get(f"/api/v1/applications/{app_id}/funds-trail", world.finance).json()["entries"]
    by_kind: dict[str, list[dict]] = {}
    for e in entries:
        by_kind.setdefault(e["kind"], []).append(e)
    year, month = int(report_period[:4]), int(report_period[5:])
    last_day = dt.date(year, month, calendar.monthrange(year, month)[1]).isoformat()
    assert [e["at"] for e in by_kind["payment"]] == [refused.isoformat(), transfer.isoformat()]
    assert {e["at"] for e in by_kind["report_revenue"] + by_kind["report_reinvestment"]} == {last_day}
    assert {e["at"] for e in by_kind["return"]} == {(today() - dt.timedelta(days=3)).isoformat()}
    assert {e["at"] for e in by_kind["reversal"]} == {refused.isoformat()}
    for e in entries:
        recorded = dt.datetime.fromisoformat(e["recorded_at"])
        assert recorded.tzinfo is not None and recorded.date() >= today() - dt.timedelta(days=1)


def test_the_chain_still_verifies_with_value_dates(world, env):
    from tkm.testing import processes

    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok     funds trail" in result.stdout
