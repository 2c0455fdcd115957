"""Every action of tkm-pemula: the right role and state succeed; wrong role 403, wrong state 409,
stale If-Match 412, someone else's application 404 (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.support.factories import World

# action: (from-state to set up, role that may do it, body)
ACTIONS = {
    "submit": ("draft", "applicant", {}),
    "withdraw": ("submitted", "applicant", {"reason": "Kelompok bubar."}),
    "start_review": ("submitted", "reviewer", {"no_conflict_of_interest": True}),
    "request_revision": ("in_review", "reviewer", {"notes": "Lengkapi foto."}),
    "resubmit": ("revision_requested", "applicant", {}),
    "recommend": ("in_review", "reviewer", None),  # body built from the application
    "not_recommend": ("in_review", "reviewer", {"reasons": "Pasar belum jelas."}),
    "approve": ("recommended", "approver", {"notes": "Disetujui."}),
    "reject": ("recommended", "approver", {"reasons": "Dana terbatas."}),
    "return_to_review": ("not_recommended", "approver", {"notes": "Periksa lagi."}),
    "sign_agreement": ("approved", "applicant", {}),
    "complete": ("active", "reviewer", {"notes": "Selesai."}),
    "suspend": ("active", "approver", {"reasons": "Laporan tidak benar."}),
    "terminate": ("active", "approver", {"reasons": "Usaha tidak berjalan."}),
}
TARGET = {
    "submit": "submitted",
    "withdraw": "withdrawn",
    "start_review": "in_review",
    "request_revision": "revision_requested",
    "resubmit": "submitted",
    "recommend": "recommended",
    "not_recommend": "not_recommended",
    "approve": "approved",
    "reject": "rejected",
    "return_to_review": "in_review",
    "sign_agreement": "active",
    "complete": "completed",
    "suspend": "suspended",
    "terminate": "terminated",
}
WRONG_ROLE = {"applicant": "reviewer", "reviewer": "approver", "approver": "reviewer"}


@pytest.fixture(scope="module")
def world(module_client):
    from tests.support.api import Api

    w = World(Api(module_client))
    w.other_applicant = w.api.make_user("applicant")
    w.outsider = w.api.make_user("reviewer", ["31"])  # DKI Jakarta, not West Sumatra
    w.outside_approver = w.api.make_user("approver", ["31"])
    return w


def test_workflow_covers_the_api_table(world):
    from tkm.workflow import loader

    workflow = loader.get("tkm-pemula")
    assert set(ACTIONS) <= set(workflow.actions)
    for name, target in TARGET.items():
        assert workflow.actions[name].to == target


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_rules(world, action):
    from_state, role, body = ACTIONS[action]
    group = world.make_group(world.applicant, name=f"Kelompok {action}")
    app = world.new_application(group=group)
    app = world.to_state(app["id"], from_state)
    assert app["status"] == from_state
    if action == "sign_agreement":
        assert world.upload(app["id"], "agreement").status_code == 201
    if action == "complete":
        world.prepare_completion(app["id"])
    if action == "submit":
        for kind in ("proposal", "ktp", "sk_kelompok"):
            assert world.upload(app["id"], kind).status_code == 201
    app = world.app(app["id"])
    if body is None:
        body = world.recommend_body(app)
    actor = getattr(world, role)
    assert action in world.app(app["id"], actor)["allowed_actions"]
    wrong_view = world.app(app["id"], getattr(world, WRONG_ROLE[role]))
    assert action not in wrong_view["allowed_actions"]

    # Someone who may not see the application gets 404, whatever their role.
    outsider = world.outside_approver if role == "approver" else world.outsider
    for stranger in (world.other_applicant, outsider):
        r = world.act(app["id"], action, stranger, body)
        assert r.status_code == 404, r.text
        assert world.get(f"/api/v1/applications/{app['id']}", stranger).status_code == 404

    wrong = getattr(world, WRONG_ROLE[role])
    r = world.act(app["id"], action, wrong, body)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")

    r = world.act(app["id"], action, actor, body, version=app["version"] - 1)
    assert r.status_code == 412, r.text
    assert world.app(app["id"])["status"] == from_state, "a refused action changes nothing"

    r = world.act(app["id"], action, actor, body, version=app["version"])
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == TARGET[action]
    assert after["version"] == app["version"] + 1
    last = after["history"][-1]
    assert (last["action"], last["from"], last["to"]) == (action, from_state, TARGET[action])
    assert last["actor_id"] == actor["id"]

    # The same action again is a state conflict (its target is not one of its sources).
    r = world.act(app["id"], action, actor, body)
    assert r.status_code == 409, r.text
    assert r.json()["status"] == 409


def test_unknown_action_is_404(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok tanpa aksi"))
    r = world.act(app["id"], "launch_rocket", world.applicant)
    assert r.status_code == 404


def test_missing_body_fields_are_named(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok isian"))
    world.to_state(app["id"], "submitted")
    r = world.act(app["id"], "start_review", world.reviewer, {})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "no_conflict_of_interest"
    r = world.act(app["id"], "start_review", world.reviewer, {"no_conflict_of_interest": False})
    assert r.status_code == 422
    world.to_state(app["id"], "in_review")
    fresh = world.app(app["id"])
    bad_scores = world.recommend_body(fresh)
    bad_scores["scores"]["market"] = 9
    r = world.act(app["id"], "recommend", world.reviewer, bad_scores)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scores"
    too_much = world.recommend_body(fresh)
    too_much["recommended_budget"]["capital"] += 1
    r = world.act(app["id"], "recommend", world.reviewer, too_much)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recommended_budget.capital"
    r = world.act(app["id"], "recommend", world.reviewer, {**world.recommend_body(fresh), "extra": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "extra"
    r = world.client.post(
        f"/api/v1/applications/{app['id']}/actions/recommend",
        content=b"{not json",
        headers={**world.reviewer["headers"], "content-type": "application/json"},
    )
    assert r.status_code == 400


def test_submit_needs_documents_and_enough_members(world):
    big_enough = world.make_group(world.applicant, name="Kelompok tanpa berkas")
    app = world.new_application(group=big_enough)
    r = world.act(app["id"], "submit", world.applicant)
    assert r.status_code == 409 and "proposal" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "attachments"
    small = world.make_group(world.applicant, name="Kelompok kecil", member_count=3)
    app = world.new_application(group=small)
    for kind in ("proposal", "ktp", "sk_kelompok"):
        world.upload(app["id"], kind)
    r = world.act(app["id"], "submit", world.applicant)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "members"
    assert "submit" not in world.app(app["id"])["allowed_actions"]


def test_the_recommender_may_not_approve(world):
    """Separation of duties: a reviewer who also holds an approver account cannot approve their own pick."""
    from tkm.auth.tables import User

    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok SoD"))
    app = world.to_state(app["id"], "in_review")
    dual = world.api.make_user("reviewer", ["13"])
    r = world.act(app["id"], "recommend", dual, world.recommend_body(app))
    assert r.status_code == 200
    world.api.call(lambda: User.update({User.role: "approver"}).where(User.id == dual["id"]))
    r = world.act(app["id"], "approve", dual, {"notes": "saya sendiri"})
    assert r.status_code == 403, r.text
    assert "approve" not in world.app(app["id"], dual)["allowed_actions"]
    assert world.act(app["id"], "approve", world.approver, {}).status_code == 200


def test_conflict_of_interest_blocks_the_reviewer(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok COI"))
    world.to_state(app["id"], "submitted")
    group_phone = world.get(f"/api/v1/groups/{app['group_id']}", world.applicant).json()["members"][2]["phone"]
    cousin = world.api.make_user("reviewer", ["13"], phone=group_phone)
    r = world.act(app["id"], "start_review", cousin, {"no_conflict_of_interest": True})
    assert r.status_code == 403
    assert world.act(app["id"], "start_review", world.reviewer, {"no_conflict_of_interest": True}).status_code == 200
    declared = world.app(app["id"])["history"][-1]["body"]
    assert declared == {"no_conflict_of_interest": True}


def test_bad_if_match_is_named(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok versi"))
    r = world.client.post(
        f"/api/v1/applications/{app['id']}/actions/withdraw",
        json={"reason": "x"},
        headers={**world.applicant["headers"], "If-Match": "abc"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "If-Match"


def test_submitting_tells_the_region_reviewers_and_approval_tells_the_applicant(world):
    from tkm.notifications.tables import Notification

    group = world.make_group(world.applicant, name="Kelompok Kabar")
    app = world.new_application(group=group)
    world.to_state(app["id"], "approved")

    async def mail_for(email):
        return await Notification.select(Notification.subject, Notification.body).where(
            Notification.recipient == email, Notification.key.like(f"app-{app['id']}-%")
        )

    to_reviewer = world.api.call(mail_for, world.reviewer["email"])
    assert any(m["subject"] == "Permohonan TKM baru dari Kelompok Kabar" for m in to_reviewer)
    assert world.api.call(mail_for, world.outsider["email"]) == []
    to_applicant = world.api.call(mail_for, world.applicant["email"])
    assert any("disetujui" in m["subject"] for m in to_applicant)
