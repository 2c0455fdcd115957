"""`tkm demo --scale N`: bulk groups whose funds trail verifies and adds up, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tkm.testing import processes

pytestmark = pytest.mark.slow

N = 30


def _rows(api: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    from tkm.core import db

    return api.call(db.fetch, sql, *args)


def _one(api: Any, sql: str, *args: Any) -> int:
    rows = _rows(api, sql, *args)
    return int(next(iter(rows[0].values())))


@pytest.fixture(scope="module")
def scaled(env: dict[str, str]) -> Any:
    return processes.run_tkm(["demo", "--scale", str(N)], env, timeout=300)


@pytest.fixture
def programme_id(scaled: Any, api: Any) -> int:
    from tkm.demo.scale import PROGRAMME

    assert scaled.returncode == 0, scaled.stderr
    return _one(api, "SELECT id FROM programmes WHERE code = {}", PROGRAMME)


def test_row_counts(scaled: Any, api: Any, programme_id: int) -> None:
    assert f"Scale data: added {N} groups" in scaled.stdout
    assert _one(api, "SELECT COUNT(*) AS n FROM applications WHERE programme = {}", programme_id) == N
    members = (
        "SELECT COUNT(*) AS n FROM group_members WHERE group_id IN "
        "(SELECT group_id FROM applications WHERE programme = {})"
    )
    assert _one(api, members, programme_id) == N * 10
    statuses = {r["status"] for r in _rows(api, "SELECT status FROM applications WHERE programme = {}", programme_id)}
    assert {"active", "completed"} <= statuses
    granted = _one(
        api,
        "SELECT COUNT(*) AS n FROM applications WHERE programme = {} AND approved_total > 0 "
        "AND status IN ('approved', 'active', 'completed', 'suspended')",
        programme_id,
    )
    assert granted >= N // 2
    paid = _one(
        api,
        "SELECT COUNT(*) AS n FROM tranches t JOIN applications a ON a.id = t.application "
        "WHERE a.programme = {} AND t.status = 'paid'",
        programme_id,
    )
    assert paid >= granted
    reports = _rows(
        api,
        "SELECT r.status, r.ledger_transaction FROM reports r JOIN applications a ON a.id = r.application "
        "WHERE a.programme = {}",
        programme_id,
    )
    assert reports and {r["status"] for r in reports} == {"accepted"} and all(r["ledger_transaction"] for r in reports)
    assert _one(
        api,
        "SELECT COUNT(*) AS n FROM report_production p JOIN reports r ON r.id = p.report "
        "JOIN applications a ON a.id = r.application WHERE a.programme = {}",
        programme_id,
    ) == 3 * len(reports)


def test_members_have_valid_niks(scaled: Any, api: Any, programme_id: int) -> None:
    from tkm.groups.nik import parse_nik
    from tkm.programmes.services import today

    rows = _rows(
        api,
        "SELECT m.nik, m.gender, g.region FROM group_members m JOIN groups g ON g.id = m.group_id "
        "JOIN applications a ON a.group_id = g.id WHERE a.programme = {}",
        programme_id,
    )
    for r in rows:
        info = parse_nik(r["nik"], today())
        assert info.gender == r["gender"] and info.district.startswith(r["region"] + ".")


def test_verify_passes(scaled: Any, env: dict[str, str]) -> None:
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_funds_trail_adds_up(scaled: Any, api: Any, programme_id: int, env: dict[str, str]) -> None:
    text = (Path(env["TKM_DATA_DIR"]) / "demo-logins.txt").read_text()
    password = next(line.split()[2] for line in text.splitlines() if "auditor@" in line)
    headers = {"Authorization": f"Bearer {api.login('auditor@tkm.test', password)}"}
    apps = _rows(
        api,
        "SELECT id, approved_total FROM applications WHERE programme = {} AND status IN ('active', 'completed') "
        "ORDER BY id",
        programme_id,
    )
    assert apps
    for app in apps[:: max(1, len(apps) // 5)]:  # a sample of the grants
        r = api.client.get(f"/api/v1/applications/{app['id']}/funds-trail", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        paid = _rows(api, "SELECT amount FROM tranches WHERE application = {} AND status = 'paid'", app["id"])
        reports = _rows(
            api, "SELECT revenue, expenses_total, reinvested FROM reports WHERE application = {}", app["id"]
        )
        lines = _rows(
            api,
            "SELECT e.source, e.component, e.amount FROM report_expenses e JOIN reports r ON r.id = e.report "
            "WHERE r.application = {}",
            app["id"],
        )
        grant_spent: dict[str, int] = {}
        for line in lines:
            if line["source"] == "grant":
                grant_spent[line["component"]] = grant_spent.get(line["component"], 0) + int(line["amount"])
        own_spent = sum(int(line["amount"]) for line in lines if line["source"] == "sales")
        totals = body["totals"]
        assert totals["approved"] == app["approved_total"]
        assert totals["disbursed"] == sum(t["amount"] for t in paid) > 0
        # Spent is every expense line, from the grant and from sales; reinvested the sales-funded lines.
        assert totals["spent"] == sum(x["expenses_total"] for x in reports) == sum(grant_spent.values()) + own_spent
        assert totals["revenue"] == sum(x["revenue"] for x in reports) > 0
        assert totals["reinvested"] == sum(x["reinvested"] for x in reports) == own_spent == totals["own_spent"]
        assert totals["grant_spent"] == sum(grant_spent.values())
        assert totals["own_balance"] == totals["revenue"] - own_spent >= 0
        assert totals["unspent"] == totals["grant_unspent"] == totals["disbursed"] - totals["grant_spent"] >= 0
        for component, figures in totals["by_component"].items():
            assert figures["grant_spent"] == grant_spent.get(component, 0)
            assert figures["unspent"] == figures["disbursed"] - figures["grant_spent"] >= 0
        assert body["entries"][-1]["balance_after"] == totals["unspent"]
        assert all(e["balance_after"] >= 0 for e in body["entries"])


def test_rerun_adds_only_what_is_missing_and_the_chain_still_verifies(
    scaled: Any, api: Any, programme_id: int, env: dict[str, str]
) -> None:
    same = processes.run_tkm(["demo", "--scale", str(N)], env, timeout=300)
    assert same.returncode == 0, same.stderr
    assert "nothing to add" in same.stdout
    more = processes.run_tkm(["demo", "--scale", str(N + 5)], env, timeout=300)
    assert more.returncode == 0, more.stderr
    assert _one(api, "SELECT COUNT(*) AS n FROM applications WHERE programme = {}", programme_id) == N + 5
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_services_carry_on_after_the_bulk_load(
    scaled: Any, api: Any, programme_id: int, env: dict[str, str]
) -> None:
    """A report filed and accepted through the services after the bulk load extends the same hash chain."""
    from tkm import regions
    from tkm.auth.services import get_user
    from tkm.demo.scale import LEADER_EMAIL
    from tkm.reports import services as reports
    from tkm.reports.schemas import ExpenseLine, ProductionLine, ReportIn, SaleLine

    period = reports.current_period()
    app_id = _one(
        api,
        "SELECT a.id FROM applications a WHERE a.programme = {} AND a.status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM reports r WHERE r.application = a.id AND r.period = {}) ORDER BY a.id LIMIT 1",
        programme_id,
        period,
    )
    leader = api.call(get_user, _one(api, "SELECT id FROM users WHERE email = {}", LEADER_EMAIL))
    data = ReportIn(
        period=period,
        production=[ProductionLine(product="masker", unit="pcs", quantity=1000)],
        sales=[SaleLine(product="masker", quantity=900, revenue=4_500_000)],
        expenses=[ExpenseLine(category="raw_materials", amount=500_000, source="sales")],
        reinvested=500_000,
        workers=11,
    )
    report = api.call(reports.submit, app_id, leader, data)
    reviewer = api.make_user("reviewer", [p.code for p in regions.provinces()])
    r = api.client.post(f"/api/v1/reports/{report['id']}/actions/accept", headers=reviewer["headers"], json={})
    assert r.status_code == 200, r.text
    trail = api.client.get(f"/api/v1/applications/{app_id}/funds-trail", headers=reviewer["headers"]).json()
    last = {(e["kind"], e["amount"]) for e in trail["entries"][-2:]}
    assert last == {("report_revenue", 4_500_000), ("report_reinvestment", 500_000)}
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr
