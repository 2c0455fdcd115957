"""Commitments come back: terminating a grant (from active or suspended) and completing one give what will not
be paid back to the programme, in the action's own transaction, with a termination letter (SQLite and
PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tests.support.ledger_setup import actor, make_application, make_programme
from tkm.core.money import rupiah
from tkm.testing import processes

REASONS = "Usaha berhenti sejak Maret; pengurus tidak dapat dihubungi & <kas> kosong."


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.auditor = w.api.make_user("auditor")
    return w


def programme_money(world: World) -> dict[str, int]:
    from tkm.ledger import services as ledger

    return world.api.call(ledger.programme_totals, int(world.programme["id"]))


def tranches(world: World, app_id: int) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/applications/{app_id}/tranches", world.finance)
    assert r.status_code == 200, r.text
    return r.json()


def trail(world: World, app_id: int) -> dict[str, Any]:
    r = world.get(f"/api/v1/applications/{app_id}/funds-trail", world.auditor)
    assert r.status_code == 200, r.text
    return r.json()


def dashboard_money(world: World) -> dict[str, int]:
    r = world.get(f"/api/v1/dashboard?programme={world.programme['code']}", world.auditor)
    assert r.status_code == 200, r.text
    return r.json()["money"]


def active_grant(world: World, name: str) -> dict[str, Any]:
    app = world.new_application(group=world.make_group(world.applicant, name=name))
    return world.to_state(app["id"], "active")


def test_terminating_an_active_grant_gives_the_unpaid_money_back(world, env):
    app = active_grant(world, "Kelompok Berhenti")
    approved = sum(app["approved_budget"].values())
    first = next(t for t in tranches(world, app["id"]) if t["component"] == "capital" and t["seq"] == 1)
    paid = world.pay(first)
    assert paid["status"] == "paid"
    before, dash_before = programme_money(world), dashboard_money(world)

    # Neither the reviewer nor finance may terminate a grant.
    for someone in (world.reviewer, world.finance):
        assert world.act(app["id"], "terminate", someone, {"reasons": REASONS}).status_code == 403
    assert world.act(app["id"], "terminate", world.approver, {}).status_code == 422  # reasons are required

    r = world.act(app["id"], "terminate", world.approver, {"reasons": REASONS})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "terminated"
    unpaid = approved - paid["amount"]

    # The paid tranche stays paid; every other one is frozen.
    statuses = {t["id"]: t["status"] for t in tranches(world, app["id"])}
    assert statuses.pop(first["id"]) == "paid"
    assert statuses and set(statuses.values()) == {"frozen"}

    # The programme's available money rises by exactly what was not paid; nothing else moves.
    after = programme_money(world)
    assert after["available"] - before["available"] == unpaid
    assert after["released"] - before["released"] == unpaid
    assert after["disbursed"] == before["disbursed"] and after["funded"] == before["funded"]

    body = trail(world, app["id"])
    totals = body["totals"]
    assert totals["released"] == unpaid
    assert totals["disbursed"] == paid["amount"] and totals["approved"] == paid["amount"]
    assert totals["approved"] + totals["released"] == approved
    releases = [e for e in body["entries"] if e["kind"] == "release"]
    assert releases and sum(e["amount"] for e in releases) == unpaid
    assert {e["component"] for e in releases} == set(app["approved_budget"])
    assert body["entries"][-1]["balance_after"] == totals["unspent"]  # a release leaves unspent money alone

    assert dashboard_money(world)["released"] - dash_before["released"] == unpaid

    # The applicant is told, and a termination letter is issued that cites the decree, the reasons, the
    # money paid and the money released.
    from tkm.notifications.tables import Notification

    mails = world.api.call(lambda: Notification.select().where(Notification.subject == "Bantuan TKM Anda dihentikan"))
    assert any(REASONS in m["body"] for m in mails)
    docs = letters.documents(world.api, app["id"], world.applicant["headers"])
    kinds = [d["kind"] for d in docs]
    assert kinds.count("termination_letter") == 1
    letter = next(d for d in docs if d["kind"] == "termination_letter")
    decree = next(d for d in docs if d["kind"] == "approval_decree")
    assert letters.render(world.api, letter["id"]) == "rendered"
    text = " ".join(letters.pdf_text(letters.download(world.api, letter["id"], world.applicant["headers"])).split())
    assert "Penghentian Bantuan" in text and "dihentikan" in text and letter["number"] in text
    assert decree["number"] in text
    assert REASONS in text
    assert rupiah(paid["amount"]) in text and rupiah(unpaid) in text

    # A second termination is a state conflict and moves nothing.
    again = world.act(app["id"], "terminate", world.approver, {"reasons": REASONS})
    assert again.status_code == 409, again.text
    assert programme_money(world) == after

    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_suspended_grant_can_be_terminated(world):
    app = active_grant(world, "Kelompok Dibekukan")
    approved = sum(app["approved_budget"].values())
    before = programme_money(world)
    assert world.act(app["id"], "suspend", world.approver, {"reasons": "Laporan fiktif."}).status_code == 200
    assert {t["status"] for t in tranches(world, app["id"])} == {"frozen"}
    # Suspending freezes, it does not release: the money is still committed.
    assert programme_money(world)["available"] == before["available"]
    assert "terminate" in world.app(app["id"], world.approver)["allowed_actions"]

    r = world.act(app["id"], "terminate", world.approver, {"reasons": REASONS})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "terminated"
    assert programme_money(world)["available"] - before["available"] == approved
    assert trail(world, app["id"])["totals"]["released"] == approved
    assert trail(world, app["id"])["totals"]["approved"] == 0


def test_completing_a_grant_releases_what_stays_committed(world, env):
    from tkm.disbursement.tables import Tranche

    app = active_grant(world, "Kelompok Sisa")
    approved = sum(app["approved_budget"].values())
    # A tranche planned for less than its share leaves money that no tranche pays.
    marketing = next(t for t in tranches(world, app["id"]) if t["component"] == "marketing")
    world.api.call(
        lambda: Tranche.update({Tranche.amount: marketing["amount"] - 250_000}).where(Tranche.id == marketing["id"])
    )
    world.prepare_completion(app["id"])
    before = programme_money(world)
    r = world.act(app["id"], "complete", world.reviewer, {"notes": "Selesai."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    totals = trail(world, app["id"])["totals"]
    assert totals["released"] == 250_000
    assert totals["approved"] == totals["disbursed"] == approved - 250_000
    assert programme_money(world)["available"] - before["available"] == 250_000
    assert processes.run_tkm(["verify"], env).returncode == 0


def test_completing_with_nothing_committed_posts_nothing(world):
    from tkm.core import db

    app = active_grant(world, "Kelompok Tuntas Penuh")
    world.prepare_completion(app["id"])
    assert world.act(app["id"], "complete", world.reviewer, {"notes": "Selesai."}).status_code == 200
    rows = world.api.call(
        db.fetch, "SELECT id FROM ledger_transactions WHERE application = {} AND kind = 'release'", app["id"]
    )
    assert rows == []
    assert trail(world, app["id"])["totals"]["released"] == 0


def test_release_service_releases_once_and_is_not_reversed(world):
    from tkm.core import db
    from tkm.core.errors import Conflict
    from tkm.ledger import services as ledger

    api = world.api
    programme_id = make_programme(api, world.admin, ceiling=50_000_000)
    app = make_application(api, world.applicant, programme_id)
    approver, finance = actor(world.approver), actor(world.finance)
    api.call(ledger.commit_budget, app["id"], programme_id, {"capital": 10_000_000, "wages": 6_000_000}, approver)
    api.call(ledger.record_payment, app["id"], "capital", 4_000_000, "TRF-1", finance)
    available = api.call(ledger.programme_totals, programme_id)["available"]

    assert api.call(ledger.release_commitments, app["id"], approver, "terminated") == 12_000_000
    assert api.call(ledger.released, app["id"]) == {"capital": 6_000_000, "wages": 6_000_000}
    assert api.call(ledger.programme_totals, programme_id)["available"] == available + 12_000_000
    # Nothing is left committed: a second release posts nothing.
    assert api.call(ledger.release_commitments, app["id"], approver, "again") == 0
    rows = api.call(
        db.fetch, "SELECT id FROM ledger_transactions WHERE application = {} AND kind = 'release'", app["id"]
    )
    assert len(rows) == 1
    with pytest.raises(Conflict):
        api.call(ledger.reverse, int(rows[0]["id"]), "undo", approver)
    # The monthly activity the dashboard reads carries the released money too.
    from tkm.ledger import activity

    assert api.call(activity.verify) is None


def test_a_payment_that_fails_after_termination_goes_back_to_the_programme(world):
    app = active_grant(world, "Kelompok Gagal Bayar")
    approved = sum(app["approved_budget"].values())
    first = next(t for t in tranches(world, app["id"]) if t["component"] == "capital" and t["seq"] == 1)
    paid = world.pay(first)
    assert world.act(app["id"], "terminate", world.approver, {"reasons": REASONS}).status_code == 200
    before = programme_money(world)

    r = world.post(f"/api/v1/tranches/{first['id']}/actions/fail", world.finance, {"reason": "Rekening ditutup"})
    assert r.status_code == 200, r.text
    # The reversed payment does not wait, committed, on a grant that pays no more.
    totals = trail(world, app["id"])["totals"]
    assert totals["disbursed"] == 0 and totals["approved"] == 0 and totals["released"] == approved
    assert programme_money(world)["available"] - before["available"] == paid["amount"]
    # Nor can the failed tranche be requested again.
    again = world.post(f"/api/v1/tranches/{first['id']}/actions/request", world.finance, {})
    assert again.status_code == 409, again.text


def test_the_programme_summary_and_the_dashboard_show_the_ledgers_released_money(world):
    from tkm.documents import summary

    released = programme_money(world)["released"]
    assert released > 0  # the grants terminated and completed above
    assert dashboard_money(world)["released"] == released
    figures = world.api.call(summary.programme_figures, world.programme["id"], "")
    assert figures["totals"]["released"] == released
    r = world.post("/api/v1/programme-reports", world.finance, {"programme": world.programme["code"], "region": "13"})
    assert r.status_code == 202, r.text
    assert letters.render(world.api, r.json()["id"]) in ("rendered", "already-ready")
    content = letters.download(world.api, r.json()["id"], world.finance["headers"])
    text = " ".join(letters.pdf_text(content).split())
    assert f"Dikembalikan ke program (tidak disalurkan) {rupiah(released)}" in text
