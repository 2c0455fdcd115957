"""`tkm demo` on a fresh database: every workflow state, paid tranches, accepted reports, intact chains, idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tkm.testing import processes

pytestmark = pytest.mark.slow

#: Every table `tkm demo` writes to, counted before and after a second run.
TABLES = (
    "users",
    "training_centres",
    "programmes",
    "groups",
    "group_members",
    "applications",
    "history_events",
    "fund_returns",
    "attachments",
    "tranches",
    "reports",
    "ledger_transactions",
    "ledger_entries",
    "audit_events",
    "documents",
    "outbox",
)


def _counts(api: Any) -> dict[str, int]:
    from tkm.core import db

    async def count() -> dict[str, int]:
        out = {}
        for table in TABLES:
            row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - constant names
            out[table] = int(row["n"]) if row else 0
        for row in await db.fetch("SELECT name, seq FROM chain_heads"):
            out["chain:" + row["name"]] = int(row["seq"])
        return out

    return api.call(count)


def _rows(api: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    from tkm.core import db

    return api.call(db.fetch, sql, *args)


@pytest.fixture(scope="module")
def first_run(env: dict[str, str]) -> Any:
    return processes.run_tkm(["demo"], env, timeout=300)


@pytest.fixture
def logins(env: dict[str, str], first_run: Any) -> dict[str, str]:
    text = (Path(env["TKM_DATA_DIR"]) / "demo-logins.txt").read_text()
    return {email: password for _role, email, password in (line.split() for line in text.splitlines())}


def test_first_run_loads_the_demo(first_run: Any) -> None:
    assert first_run.returncode == 0, first_run.stderr
    assert "Demo data loaded: 3 training centres, 2 programmes" in first_run.stdout


def test_every_workflow_state_is_present(first_run: Any, api: Any) -> None:
    from tkm.workflow import loader

    found = {(r["workflow"], r["status"]) for r in _rows(api, "SELECT workflow, status FROM applications")}
    pemula = set(loader.get("tkm-pemula").states)
    assert {s for w, s in found if w == "tkm-pemula"} == pemula
    assert ("tkm-lanjutan", "field_verified") in found
    # Lanjutan applications come from groups that completed a Pemula grant.
    rows = _rows(
        api,
        "SELECT a.group_id, b.status FROM applications a JOIN applications b ON b.group_id = a.group_id "
        "AND b.workflow = 'tkm-pemula' WHERE a.workflow = 'tkm-lanjutan'",
    )
    assert rows and all(r["status"] == "completed" for r in rows)


def test_training_centres_programmes_and_staff_regions(first_run: Any, api: Any) -> None:
    from tkm.auth.roles import region_covers

    kinds = {r["kind"] for r in _rows(api, "SELECT kind FROM training_centres")}
    assert kinds == {"UPTP", "UPTD", "KOMUNITAS"}
    programmes = {r["workflow"] for r in _rows(api, "SELECT workflow FROM programmes")}
    assert programmes == {"tkm-pemula", "tkm-lanjutan"}
    group_regions = {r["region"] for r in _rows(api, "SELECT region FROM groups")}
    assert len({region.split(".")[0] for region in group_regions}) >= 2  # more than one province
    staff = _rows(api, "SELECT email, role, regions FROM users WHERE role IN ('reviewer', 'approver', 'finance')")
    import json

    for user in staff:
        scopes = json.loads(user["regions"]) if isinstance(user["regions"], str) else user["regions"]
        for region in group_regions:
            assert any(region_covers(scope, region) for scope in scopes), (user["email"], region)


def test_members_have_valid_niks_from_their_region(first_run: Any, api: Any) -> None:
    from tkm.groups.nik import parse_nik
    from tkm.programmes.services import today

    rows = _rows(
        api,
        "SELECT m.nik, m.gender, m.birth_date, g.region, g.id AS group_id FROM group_members m "
        "JOIN groups g ON g.id = m.group_id",
    )
    per_group: dict[int, int] = {}
    for r in rows:
        info = parse_nik(r["nik"], today())
        assert info.gender == r["gender"]
        assert info.district.startswith(r["region"] + "."), (r["nik"], r["region"])
        per_group[r["group_id"]] = per_group.get(r["group_id"], 0) + 1
    assert len({r["nik"] for r in rows}) == len(rows)
    assert set(per_group.values()) == {10}


def test_tranches_are_paid_with_separation_of_duties(first_run: Any, api: Any) -> None:
    paid = _rows(api, "SELECT * FROM tranches WHERE status = 'paid'")
    assert len(paid) >= 10
    for t in paid:
        assert t["requested_by"] and t["authorized_by"] and t["requested_by"] != t["authorized_by"]
        assert t["paid_at"] is not None and t["payment_transaction"] is not None
    completed = _rows(
        api,
        "SELECT t.status FROM tranches t JOIN applications a ON a.id = t.application WHERE a.status = 'completed'",
    )
    assert completed and {t["status"] for t in completed} == {"paid"}
    assert {t["status"] for t in _rows(api, "SELECT status FROM tranches")} >= {"paid", "planned", "frozen"}


def test_reports_are_accepted_for_several_months(first_run: Any, api: Any) -> None:
    from tkm.reports.services import current_period

    reports = _rows(api, "SELECT * FROM reports")
    assert reports and {r["status"] for r in reports} == {"accepted"}
    assert all(r["ledger_transaction"] for r in reports)
    assert len({r["period"] for r in reports}) >= 3
    assert max(r["period"] for r in reports) <= current_period()
    units = {(r["product"], r["unit"]) for r in _rows(api, "SELECT product, unit FROM report_production")}
    assert units == {("masker", "pcs"), ("hand_sanitizer", "liter"), ("sabun", "batang")}
    assert any(r["final"] for r in reports)
    assert all(r["reinvested"] > 0 and r["expenses_total"] > 0 and r["workers"] > 0 for r in reports)


def test_funds_trail_matches_tranches_and_reports(first_run: Any, api: Any, logins: dict[str, str]) -> None:
    token = api.login("auditor@tkm.test", logins["auditor@tkm.test"])
    headers = {"Authorization": f"Bearer {token}"}
    for app in _rows(api, "SELECT id FROM applications WHERE status IN ('active', 'completed', 'suspended')"):
        r = api.client.get(f"/api/v1/applications/{app['id']}/funds-trail", headers=headers)
        assert r.status_code == 200, r.text
        totals = r.json()["totals"]
        paid = _rows(api, "SELECT amount FROM tranches WHERE application = {} AND status = 'paid'", app["id"])
        reports = _rows(
            api, "SELECT revenue, expenses_total, reinvested FROM reports WHERE application = {}", app["id"]
        )
        assert totals["disbursed"] == sum(t["amount"] for t in paid) > 0
        assert totals["revenue"] == sum(x["revenue"] for x in reports) > 0
        assert totals["spent"] == sum(x["expenses_total"] for x in reports)
        assert totals["reinvested"] == sum(x["reinvested"] for x in reports)
        # The two pools: grant money by component and the group's own money, each from the expense lines.
        lines = _rows(
            api,
            "SELECT e.source, e.component, e.amount FROM report_expenses e JOIN reports r ON r.id = e.report "
            "WHERE r.application = {}",
            app["id"],
        )
        assert totals["grant_spent"] == sum(x["amount"] for x in lines if x["source"] == "grant")
        assert totals["own_spent"] == sum(x["amount"] for x in lines if x["source"] == "sales") == totals["reinvested"]
        assert totals["spent"] == totals["grant_spent"] + totals["own_spent"]
        assert totals["own_balance"] == totals["revenue"] - totals["own_spent"] >= 0
        assert totals["unspent"] == totals["disbursed"] - totals["grant_spent"] - totals["returned"] >= 0
        for component, figures in totals["by_component"].items():
            spent_on = sum(x["amount"] for x in lines if x["source"] == "grant" and x["component"] == component)
            assert figures["grant_spent"] == spent_on <= figures["disbursed"], component


def test_letters_are_queued(first_run: Any, api: Any) -> None:
    kinds = {r["kind"] for r in _rows(api, "SELECT kind FROM documents")}
    assert {"submission_receipt", "approval_decree", "payment_order", "handover_record"} <= kinds
    # Each application's letters come from the manpower office of its province, numbered in its register.
    rows = _rows(
        api,
        "SELECT d.office, d.number, a.region FROM documents d JOIN applications a ON a.id = d.application",
    )
    assert rows
    for row in rows:
        office = {"13": "SUMBAR", "33": "JATENG"}[row["region"][:2]]
        assert row["office"] == office and f"/{office}/" in row["number"], row


def test_verify_passes(first_run: Any, env: dict[str, str]) -> None:
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok     funds trail" in result.stdout and "ok     audit trail" in result.stdout
    assert "ok     monthly activity" in result.stdout


def test_second_run_changes_nothing(first_run: Any, env: dict[str, str], api: Any) -> None:
    before = _counts(api)
    again = processes.run_tkm(["demo"], env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Demo data is already loaded; nothing to do." in again.stdout
    assert _counts(api) == before
    assert before["applications"] == 16 and before["chain:ledger"] > 0


def test_the_money_tells_a_true_story(first_run: Any, api: Any, logins: dict[str, str]) -> None:
    """No negative figure anywhere; groups spend grant money by component and reinvest sales; the finished groups
    (completed and terminated) returned their leftover with an NTPN and end at zero unspent; the dashboard's
    released and returned equal the ledger's sums."""
    token = api.login("auditor@tkm.test", logins["auditor@tkm.test"])
    headers = {"Authorization": f"Bearer {token}"}
    dashboard = api.client.get("/api/v1/dashboard", headers=headers).json()
    money = dashboard["money"]
    assert all(v >= 0 for v in money.values()) and dashboard["reinvested"] > 0, money
    ledger = {
        r["name"]: int(r["total"])
        for r in _rows(
            api,
            "SELECT CASE WHEN t.kind = 'release' AND a.name = 'committed' THEN 'released' ELSE a.name END AS name, "
            "CAST(SUM(e.amount) AS BIGINT) AS total FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account "
            "JOIN ledger_transactions t ON t.id = e.txn GROUP BY 1",
        )
    }
    assert money["released"] == -ledger["released"] > 0
    assert money["returned"] == ledger["returned"] > 0
    assert money["disbursed"] == ledger["disbursed"] and money["spent"] == ledger["grant_spent"]
    assert money["unspent"] == ledger["grant_cash"]
    for row in dashboard["by_region"]:
        assert all(v >= 0 for v in row.values() if isinstance(v, int)), row

    def no_negative(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                no_negative(v, f"{where}.{k}")
        elif isinstance(value, int) and not isinstance(value, bool):
            assert value >= 0, where

    finished = 0
    for app in _rows(api, "SELECT id, status FROM applications WHERE approved_at IS NOT NULL ORDER BY id"):
        trail = api.client.get(f"/api/v1/applications/{app['id']}/funds-trail", headers=headers).json()
        totals = trail["totals"]
        no_negative(totals, f"application {app['id']}")
        assert all(e["balance_after"] >= 0 for e in trail["entries"]), app
        if totals["disbursed"]:
            assert totals["grant_spent"] > 0 and totals["reinvested"] > 0, app  # grant money and sales both spent
            assert sum(1 for f in totals["by_component"].values() if f["grant_spent"]) >= 2, app
        if app["status"] in ("completed", "terminated"):
            finished += 1
            assert totals["unspent"] == 0 and trail["entries"][-1]["balance_after"] == 0, (app, totals)
            assert totals["returned"] > 0 and trail["entries"][-1]["kind"] == "return", app
            returns = _rows(api, "SELECT ntpn, amount FROM fund_returns WHERE application = {}", app["id"])
            assert [len(r["ntpn"]) for r in returns] == [16] and returns[0]["amount"] == totals["returned"]
            kinds = {r["kind"] for r in _rows(api, "SELECT kind FROM documents WHERE application = {}", app["id"])}
            assert "return_receipt" in kinds, app
        if app["status"] == "terminated":
            assert totals["released"] > 0 and "termination_letter" in kinds, totals  # unpaid wages went back
    assert finished == 3
