"""Monthly activity beside the ledger: each posting lands in its business month, reversals net out, and
`tkm verify` proves the table equals the entries (and names the row when someone edits it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.ledger import activity
from tkm.testing import processes
from tkm.testing.time_travel import approve_in_the_past, months_ago, period


def _paid_on(n_months_ago: int) -> dt.date:
    return months_ago(n_months_ago).date()


@pytest.fixture(scope="module")
def scene(module_client) -> dict[str, Any]:
    world = World(Api(module_client))
    app_id = world.new_application()["id"]
    world.to_state(app_id, "active")
    approve_in_the_past(world.api, app_id, 3)
    tranches = {t["reference"]: t for t in world.get(f"/api/v1/applications/{app_id}/tranches", world.finance).json()}
    capital = next(t for ref, t in tranches.items() if ref.endswith("CAP1"))
    wages = next(t for t in tranches.values() if t["component"] == "wages" and t["status"] == "planned")
    # Capital paid two months ago, refused by the bank (reversal), then paid again last month.
    paid = world.pay(capital, _paid_on(2))
    r = world.post(f"/api/v1/tranches/{paid['id']}/actions/fail", world.finance, {"reason": "Rekening ditolak bank"})
    assert r.status_code == 200, r.text
    world.pay(r.json(), _paid_on(1))
    world.pay(wages, _paid_on(1))
    world.accepted_report(
        app_id,
        period=period(2),
        expenses=[
            {"category": "raw_materials", "amount": 1_500_000, "source": "grant", "component": "capital"},
            {"category": "equipment", "amount": 600_000, "source": "sales"},
        ],
        workers=9,
    )
    return {"world": world, "app_id": app_id, "capital": int(capital["amount"]), "wages": int(wages["amount"])}


def _rows(scene: dict[str, Any]) -> dict[tuple[str, str], int]:
    from tkm.core import db

    rows = scene["world"].api.call(
        db.fetch, "SELECT month, name, amount FROM ledger_activity WHERE application_id = {}", scene["app_id"]
    )
    return {(r["month"], r["name"]): int(r["amount"]) for r in rows if int(r["amount"])}


def test_each_posting_counts_in_its_business_month(scene):
    # Not in the month they were posted (this month) but in the transfer's month and the report's period;
    # the refused payment and its reversal cancel out in the month of the first transfer.
    months = {
        (period(1), "disbursed"): scene["capital"] + scene["wages"],
        (period(2), "grant_spent"): 1_500_000,
        (period(2), "revenue"): -4_000_000,
        (period(2), "reinvestment"): 600_000,
    }
    totals = {(activity.TOTAL, name): amount for (_month, name), amount in months.items()}
    assert _rows(scene) == months | totals
    assert scene["world"].api.call(activity.verify) is None


def test_the_dashboard_reads_the_same_months(scene):
    world = scene["world"]
    data = world.get("/api/v1/dashboard", world.reviewer).json()
    months = {m["month"]: m for m in data["by_month"]}
    assert months[period(1)]["disbursed"] == scene["capital"] + scene["wages"]
    assert months[period(2)]["disbursed"] == 0  # refused and reversed
    # Spent is the grant money spent; what the group spent of its own sales money is reinvested.
    assert (months[period(2)]["revenue"], months[period(2)]["spent"]) == (4_000_000, 1_500_000)
    assert months[period(2)]["reinvested"] == 600_000
    assert data["money"]["disbursed"] == scene["capital"] + scene["wages"]


def test_reversal_carries_the_month_of_what_it_reverses(scene):
    from tkm.core import db

    rows = scene["world"].api.call(
        db.fetch,
        "SELECT t.kind, t.period, o.period AS original FROM ledger_transactions t "
        "LEFT JOIN ledger_transactions o ON o.id = t.reverses WHERE t.application = {} ORDER BY t.id",
        scene["app_id"],
    )
    reversal = next(r for r in rows if r["kind"] == "reversal")
    assert reversal["period"] == reversal["original"] == period(2)
    assert [r["period"] for r in rows if r["kind"] == "report"] == [period(2)]


def test_verify_names_an_edited_activity_row(env, scene):
    from tkm.core import db

    api = scene["world"].api
    assert processes.run_tkm(["verify"], env).returncode == 0
    api.call(
        db.execute,
        "UPDATE ledger_activity SET amount = amount + 1 WHERE application_id = {} AND name = 'grant_spent'",
        scene["app_id"],
    )
    try:
        broken = processes.run_tkm(["verify"], env)
        assert broken.returncode == 1
        assert "BROKEN monthly activity" in broken.stdout
        assert f"application {scene['app_id']}, {period(2)}, grant_spent: 1500001 stored" in broken.stdout
        assert "ok     funds trail" in broken.stdout
    finally:
        api.call(
            db.execute,
            "UPDATE ledger_activity SET amount = amount - 1 WHERE application_id = {} AND name = 'grant_spent'",
            scene["app_id"],
        )
    assert api.call(activity.verify) is None


def test_rebuild_reproduces_the_table(scene):
    from tkm.core import db

    api = scene["world"].api
    before = _rows(scene)

    async def rebuild() -> None:
        async with db.transaction():
            for statement in activity.rebuild_statements(db.is_sqlite()):
                await db.execute(statement)

    api.call(rebuild)
    assert before and _rows(scene) == before
