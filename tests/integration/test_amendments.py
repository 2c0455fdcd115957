"""Budget amendments (perubahan RAB): an active group moves money between components; the reviewer recommends,
another person approves; approval replaces the budget, re-plans the unpaid tranches (paid ones never move),
moves the commitments in one balanced posting and issues the amendment decree (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text
from tkm.testing.builders import budget

REASON = "Harga kain naik; promosi dikurangi & upah disesuaikan <sementara>."


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.auditor = w.api.make_user("auditor")
    w.reviewer2 = w.api.make_user("reviewer", ["13"], phone="081100000012")
    return w


def funded(world: World, name: str) -> dict[str, Any]:
    """An active grant of Rp17.000.000 whose first capital tranche (Rp7.000.000) and product development
    (Rp2.000.000) are paid; capital 2, three wage tranches and marketing wait."""
    group = world.make_group(world.applicant, name=name)
    app = world.to_state(world.new_application(group=group)["id"], "active")
    for t in tranches(world, app["id"]):
        if t["reference"].endswith(("-CAP1", "-DEV1")):
            world.pay(t)
    return app


def moved(**changes: Any) -> list[dict[str, Any]]:
    """Capital up to Rp11.000.000, wages down to 50 days × Rp70.000, marketing gone: total Rp16.500.000."""
    args = {"capital": 11_000_000, "daily_wage": 70_000, **changes}
    lines = budget(**args)
    return [line for line in lines if line["component"] != "marketing"]


def tranches(world: World, app_id: int) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/applications/{app_id}/tranches", world.finance)
    assert r.status_code == 200, r.text
    return r.json()


def totals(world: World, app_id: int) -> dict[str, Any]:
    r = world.get(f"/api/v1/applications/{app_id}/funds-trail", world.auditor)
    assert r.status_code == 200, r.text
    return r.json()["totals"]


def amendments(world: World, app_id: int) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/applications/{app_id}/amendments", world.auditor)
    assert r.status_code == 200, r.text
    return r.json()


def propose(world: World, app_id: int, lines: list[dict[str, Any]], reason: str = REASON) -> Any:
    return world.post(f"/api/v1/applications/{app_id}/amendments", world.applicant, {"budget": lines, "reason": reason})


def act(world: World, amendment: dict[str, Any], action: str, user: dict[str, Any], body=None, version=None) -> Any:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return world.post(f"/api/v1/amendments/{amendment['id']}/actions/{action}", user, body or {}, headers=headers)


def programme_money(world: World) -> dict[str, int]:
    from tkm.ledger import services as ledger

    return world.api.call(ledger.programme_totals, int(world.programme["id"]))


def posting_legs(world: World, txn: int) -> list[tuple[str, int]]:
    from tkm.core import db

    async def legs() -> list[tuple[str, int]]:
        rows = await db.fetch(
            "SELECT a.code, e.amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account "
            "WHERE e.txn = {} ORDER BY e.seq",
            txn,
        )
        return [(r["code"], int(r["amount"])) for r in rows]

    return world.api.call(legs)


def verified(world: World) -> None:
    """What ``tkm verify`` runs (every domain's check: the funds trail's chain, balanced postings and pools that
    never go below zero, the monthly activity, the audit chain, void letters), each finding nothing broken."""
    from tkm.core.domain import resolve
    from tkm.domains import checks

    for name, target in checks():
        assert world.api.call(resolve(target)) is None, name


def test_an_approved_amendment_moves_commitments_replans_unpaid_tranches_and_issues_a_decree(world):
    app = funded(world, "Kelompok Ubah RAB")
    before_tranches = {t["reference"]: t for t in tranches(world, app["id"])}
    paid_before = {ref: t for ref, t in before_tranches.items() if t["status"] == "paid"}
    assert sorted(paid_before) == [f"TKM-{app['id']}-CAP1", f"TKM-{app['id']}-DEV1"]
    money_before = programme_money(world)

    r = propose(world, app["id"], moved())
    assert r.status_code == 201, r.text
    amendment = r.json()
    assert amendment["status"] == "proposed" and amendment["version"] == 1
    assert amendment["totals_before"] == {
        "capital": 10_000_000,
        "wages": 4_000_000,
        "product_development": 2_000_000,
        "marketing": 1_000_000,
    }
    assert amendment["totals_after"] == {"capital": 11_000_000, "wages": 3_500_000, "product_development": 2_000_000}
    # Nothing moves before approval.
    assert totals(world, app["id"])["by_component"]["capital"]["approved"] == 10_000_000

    r = act(world, amendment, "recommend", world.reviewer, {"notes": "Wajar."}, version=1)
    assert r.status_code == 200, r.text
    r = act(world, r.json(), "approve", world.approver, {"notes": "Disetujui."}, version=r.json()["version"])
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved"

    # Commitments per component follow the new budget; what was paid stays paid.
    by_component = totals(world, app["id"])["by_component"]
    assert {c: v["approved"] for c, v in by_component.items()} == {
        "capital": 11_000_000,
        "wages": 3_500_000,
        "product_development": 2_000_000,
    }
    assert by_component["capital"]["disbursed"] == 7_000_000
    assert by_component["product_development"]["disbursed"] == 2_000_000
    # One balanced posting: capital +1.000.000, wages −500.000, marketing −1.000.000, Rp500.000 back to the programme.
    legs = posting_legs(world, approved["ledger_transaction"])
    assert sum(amount for _code, amount in legs) == 0
    assert sorted(legs) == sorted(
        [
            (f"app:{app['id']}:committed:capital", 1_000_000),
            (f"app:{app['id']}:committed:wages", -500_000),
            (f"app:{app['id']}:committed:marketing", -1_000_000),
            (f"prog:{world.programme['id']}:available", 500_000),
        ]
    )
    money_after = programme_money(world)
    assert money_after["available"] == money_before["available"] + 500_000
    assert money_after["committed"] == money_before["committed"] - 500_000

    # The unpaid tranches are re-planned; the paid ones are exactly as they were.
    after = {t["reference"]: t for t in tranches(world, app["id"])}
    for ref, t in paid_before.items():
        assert after[ref] == t
    assert after[f"TKM-{app['id']}-CAP2"]["amount"] == 4_000_000
    assert sum(t["amount"] for t in after.values() if t["component"] == "wages") == 3_500_000
    assert len([t for t in after.values() if t["component"] == "wages"]) == 3
    assert not [t for t in after.values() if t["component"] == "marketing"]
    assert [t["reference"] for t in approved["tranches_after"]] == sorted(
        after, key=lambda ref: (after[ref]["component"], after[ref]["seq"])
    )

    # The application's budget is replaced; the amendment keeps the old one.
    view = world.app(app["id"])
    assert view["budget_totals"] == approved["totals_after"]
    assert [line["component"] for line in approved["budget_before"]] == [
        "capital",
        "wages",
        "product_development",
        "marketing",
    ]

    # The funds trail reads it in people's words; the whole chain still verifies.
    trail = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.auditor).json()["entries"]
    assert sorted(e["amount"] for e in trail if e["kind"] == "amendment") == [-1_000_000, -500_000, 1_000_000]
    csv = world.get(f"/api/v1/applications/{app['id']}/funds-trail?format=csv", world.auditor)
    assert csv.status_code == 200, csv.text
    lines = [line for line in csv.text.splitlines() if "Rp" in line or "1000000" in line]
    assert any("Budget amendment" in line or "Perubahan RAB" in line for line in lines), csv.text
    assert ",amendment," not in csv.text
    verified(world)

    # The decree: issued by the approval, citing the original SK, before/after, the tranches and the reason.
    decree = approved["decree"]
    assert decree is not None
    docs = world.get(f"/api/v1/applications/{app['id']}/documents", world.applicant).json()
    assert [d["id"] for d in docs if d["kind"] == "amendment_decree"] == [decree["id"]]
    original = next(d for d in docs if d["kind"] == "approval_decree")
    assert letters.render(world.api, decree["id"]) == "rendered"
    content = letters.download(world.api, decree["id"], world.applicant["headers"])
    pdf = " ".join(letters.pdf_text(content).split())
    assert "Perubahan Rencana Anggaran Biaya".upper() in pdf.upper()
    assert original["number"] in pdf
    assert "Rp11.000.000" in pdf and "Rp16.500.000" in pdf and "Rp4.000.000" in pdf
    assert f"TKM-{app['id']}-CAP2" in pdf
    assert "Harga kain naik" in pdf and "<sementara>" in pdf
    assert "capital" not in pdf and "product_development" not in pdf


def test_the_recommender_does_not_approve_and_roles_are_kept(world):
    from tkm.auth.tables import User

    app = funded(world, "Kelompok Pisah Tugas")
    amendment = propose(world, app["id"], moved()).json()
    assert act(world, amendment, "recommend", world.approver).status_code == 403
    assert act(world, amendment, "approve", world.approver).status_code == 409  # not recommended yet
    recommender = world.api.make_user("reviewer", ["13"], phone="081100000099")
    r = act(world, amendment, "recommend", recommender)
    assert r.status_code == 200, r.text
    # The same person, now an approver, may not approve what they recommended.
    world.api.call(User.update({User.role: "approver"}).where(User.id == recommender["id"]).run)
    r = act(world, amendment, "approve", recommender)
    assert r.status_code == 403, r.text
    assert act(world, amendment, "approve", world.approver, version=1).status_code == 412
    assert totals(world, app["id"])["by_component"]["capital"]["approved"] == 10_000_000
    r = act(world, amendment, "approve", world.approver)
    assert r.status_code == 200, r.text
    assert totals(world, app["id"])["by_component"]["capital"]["approved"] == 11_000_000


def test_a_rejected_amendment_changes_nothing(world):
    app = funded(world, "Kelompok Tolak")
    before = (tranches(world, app["id"]), totals(world, app["id"]))
    amendment = propose(world, app["id"], moved()).json()
    assert act(world, amendment, "reject", world.approver, {}).status_code == 422  # reasons are required
    r = act(world, amendment, "reject", world.approver, {"reasons": "Belum perlu."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["decree"] is None
    assert (tranches(world, app["id"]), totals(world, app["id"])) == before
    # Decided: another one may be proposed.
    assert propose(world, app["id"], moved()).status_code == 201


def cap_breach() -> list[dict[str, Any]]:
    return moved(capital=12_500_000)  # programme cap for capital is Rp12.000.000


def above_approved() -> list[dict[str, Any]]:
    return budget(capital=11_000_000)  # Rp18.000.000 > Rp17.000.000 approved (cap and group limit hold)


def below_paid() -> list[dict[str, Any]]:
    return budget(capital=6_000_000, marketing=2_000_000)  # Rp7.000.000 of capital is already paid


def unchanged() -> list[dict[str, Any]]:
    return budget()


def bad_quantity() -> list[dict[str, Any]]:
    lines = moved()
    lines[1]["quantity"] = "lima puluh"
    return lines


def wage_over_cap() -> list[dict[str, Any]]:
    return moved(daily_wage=150_000, wages_days=20)


@pytest.mark.parametrize(
    ("make", "reason", "field"),
    [
        (cap_breach, REASON, "budget.capital"),
        (above_approved, REASON, "budget"),
        (below_paid, REASON, "budget.capital"),
        (unchanged, REASON, "budget"),
        (bad_quantity, REASON, "budget[1].quantity"),
        (wage_over_cap, REASON, "budget[1].unit_cost"),
        (lambda: [], REASON, "budget"),
        (moved, "  ", "reason"),
    ],
)
def test_bad_amendments_name_the_field_and_write_nothing(world, make, reason, field):
    app = funded(world, f"Kelompok Salah {field}")
    before = (tranches(world, app["id"]), totals(world, app["id"]), world.app(app["id"])["budget_totals"])
    r = propose(world, app["id"], make(), reason)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.text
    assert amendments(world, app["id"]) == []
    assert (tranches(world, app["id"]), totals(world, app["id"]), world.app(app["id"])["budget_totals"]) == before


def test_only_the_applicant_of_an_active_grant_proposes_one_at_a_time(world):
    body = {"budget": moved(), "reason": REASON}
    group = world.make_group(world.applicant, name="Kelompok Belum Aktif")
    pending = world.to_state(world.new_application(group=group)["id"], "approved")
    r = world.post(f"/api/v1/applications/{pending['id']}/amendments", world.applicant, body)
    assert r.status_code == 409, r.text
    app = funded(world, "Kelompok Satu Saja")
    for user in (world.reviewer, world.approver, world.finance):
        assert world.post(f"/api/v1/applications/{app['id']}/amendments", user, body).status_code == 403
    other = world.api.make_user("applicant")
    assert world.post(f"/api/v1/applications/{app['id']}/amendments", other, body).status_code == 404
    assert propose(world, app["id"], moved()).status_code == 201
    r = propose(world, app["id"], moved())
    assert r.status_code == 409, r.text
    assert len(amendments(world, app["id"])) == 1


def test_approval_waits_while_a_payment_is_on_its_way(world):
    app = funded(world, "Kelompok Termin Jalan")
    amendment = propose(world, app["id"], moved()).json()
    amendment = act(world, amendment, "recommend", world.reviewer).json()
    wage = next(t for t in tranches(world, app["id"]) if t["component"] == "wages" and t["seq"] == 1)
    r = world.post(f"/api/v1/tranches/{wage['id']}/actions/request", world.finance, {})
    assert r.status_code == 200, r.text
    before = totals(world, app["id"])
    for step in ("requested", "authorize"):
        r = act(world, amendment, "approve", world.approver)
        assert r.status_code == 409, r.text
        assert wage["reference"] in r.json()["detail"]
        assert "tranches" in {e["field"] for e in r.json()["errors"]}
        assert totals(world, app["id"]) == before
        if step == "requested":
            assert world.post(f"/api/v1/tranches/{wage['id']}/actions/authorize", world.finance2, {}).status_code == 200
    world.pay({**wage, "status": "authorized"})
    r = act(world, amendment, "approve", world.approver)
    assert r.status_code == 200, r.text
    after = {t["reference"]: t for t in tranches(world, app["id"])}
    assert after[wage["reference"]]["amount"] == wage["amount"] and after[wage["reference"]]["status"] == "paid"
    assert sum(t["amount"] for t in after.values() if t["component"] == "wages") == 3_500_000
    verified(world)


def test_payments_after_the_proposal_are_checked_again_at_approval(world):
    app = funded(world, "Kelompok Bayar Dulu")
    # Wages down to 10 days (Rp700.000) while its first tranche (Rp1.333.333) is still unpaid.
    amendment = propose(world, app["id"], moved(wages_days=10, capital=12_000_000)).json()
    amendment = act(world, amendment, "recommend", world.reviewer).json()
    wage = next(t for t in tranches(world, app["id"]) if t["component"] == "wages" and t["seq"] == 1)
    world.pay(wage)
    r = act(world, amendment, "approve", world.approver)
    assert r.status_code == 409, r.text
    assert "budget.wages" in {e["field"] for e in r.json()["errors"]}
    assert totals(world, app["id"])["by_component"]["wages"]["approved"] == 4_000_000


def test_the_application_page_lists_amendments_with_actions_and_offers_the_form(world, module_client):
    app = funded(world, "Kelompok Halaman")
    pages = Pages(module_client).login(world.applicant)
    page = pages.get(f"/applications/{app['id']}")
    assert page.status_code == 200
    assert f"/applications/{app['id']}/amendments/new" in page.text
    form = pages.get(f"/applications/{app['id']}/amendments/new")
    assert form.status_code == 200
    assert 'value="Mesin jahit dan bahan kain"' in form.text and 'value="10000000"' in form.text
    rows = moved()
    lines = [(f"budget[{i}].{k}", str(v)) for i, line in enumerate(rows) for k, v in line.items()]
    data = [("reason", REASON), *lines]
    bad = pages.post(f"/applications/{app['id']}/amendments/new", [("reason", ""), *lines])
    assert bad.status_code == 422, bad.text
    assert amendments(world, app["id"]) == []
    r = pages.post(f"/applications/{app['id']}/amendments/new", data)
    assert r.status_code == 303, r.text
    (amendment,) = amendments(world, app["id"])

    reviewer = Pages(module_client).login(world.reviewer)
    page = reviewer.get(f"/applications/{app['id']}")
    html = page.text
    assert f'action="/amendments/{amendment["id"]}/actions/recommend"' in html
    assert "Rp11.000.000" in text(html)
    r = reviewer.post(f"/amendments/{amendment['id']}/actions/recommend", {"version": "1", "notes": "Wajar."})
    assert r.status_code == 303
    approver = Pages(module_client).login(world.approver)
    html = approver.get(f"/applications/{app['id']}").text
    assert f'action="/amendments/{amendment["id"]}/actions/approve"' in html
    assert f'action="/amendments/{amendment["id"]}/actions/reject"' in html
    r = approver.post(f"/amendments/{amendment['id']}/actions/approve", {"version": "2"})
    assert r.status_code == 303
    assert amendments(world, app["id"])[0]["status"] == "approved"


def test_tkm_verify_passes_over_the_database_after_the_amendments(world, env):
    """The real command, over this module's database after every journey above (approved, rejected, refused)."""
    from tkm.testing import processes

    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok     funds trail" in result.stdout and "BROKEN" not in result.stdout


def test_a_paid_up_component_that_grows_gets_a_new_tranche_by_the_plan(world):
    app = funded(world, "Kelompok Tambah Desain")
    # Product development (Rp2.000.000) is paid in full; it grows by Rp1.000.000 taken from capital.
    lines = budget(capital=9_000_000, product_development=3_000_000)
    amendment = propose(world, app["id"], lines).json()
    amendment = act(world, amendment, "recommend", world.reviewer).json()
    r = act(world, amendment, "approve", world.approver)
    assert r.status_code == 200, r.text
    after = {t["reference"]: t for t in tranches(world, app["id"])}
    dev = sorted((t for t in after.values() if t["component"] == "product_development"), key=lambda t: t["seq"])
    assert [(t["reference"], t["amount"], t["status"]) for t in dev] == [
        (f"TKM-{app['id']}-DEV1", 2_000_000, "paid"),
        (f"TKM-{app['id']}-DEV2", 1_000_000, "planned"),
    ]
    assert after[f"TKM-{app['id']}-CAP2"]["amount"] == 2_000_000
    assert world.pay(after[f"TKM-{app['id']}-DEV2"])["status"] == "paid"
    by_component = totals(world, app["id"])["by_component"]
    assert by_component["product_development"] == {
        "approved": 3_000_000,
        "disbursed": 3_000_000,
        "grant_spent": 0,
        "returned": 0,
        "unspent": 3_000_000,
    }
    assert sum(v["approved"] for v in by_component.values()) == 17_000_000
    verified(world)
