"""Training centres and programmes (admin), and the tkm-lanjutan workflow on the same engine."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.builders import programme_body


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def fields(r):
    return [e["field"] for e in r.json().get("errors", [])]


def test_training_centres(world):
    body = {
        "code": "UPTP-PADANG",
        "name": "BBPLK Padang",
        "kind": "UPTP",
        "region": "13.71",
        "vocations": ["Menjahit", "pengolahan"],
        "it_based": False,
    }
    r = world.post("/api/v1/training-centres", world.admin, body)
    assert r.status_code == 201 and r.json()["vocations"] == ["menjahit", "pengolahan"]
    assert world.post("/api/v1/training-centres", world.admin, body).status_code == 409
    assert world.post("/api/v1/training-centres", world.reviewer, {**body, "code": "X2"}).status_code == 403
    r = world.post("/api/v1/training-centres", world.admin, {**body, "code": "X3", "kind": "SWASTA"})
    assert r.status_code == 400 and fields(r) == ["kind"]
    r = world.post("/api/v1/training-centres", world.admin, {**body, "code": "X4", "region": "99"})
    assert r.status_code == 422 and fields(r) == ["region"]
    listed = world.get("/api/v1/training-centres?region=13", world.applicant).json()
    assert [c["code"] for c in listed["items"]] == ["UPTP-PADANG"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"workflow": "tkm-unknown"}, "workflow"),
        ({"budget_ceiling": 0}, "budget_ceiling"),
        ({"max_per_group": 2_000_000_000}, "max_per_group"),
        ({"min_members": 12, "max_members": 10}, "max_members"),
        ({"regions": ["77"]}, "regions[0]"),
        ({"closes_on": "2019-01-01"}, "closes_on"),
        ({"components": {"capital": {"max": 30_000_000}}}, "components.capital.max"),
        ({"components": {"wages": {"max": 1_000_000}}}, "components.wages.daily_wage_max"),
        ({"components": {"bonus": {"max": 1}}}, "components.bonus"),
    ],
)
def test_programme_rules(world, patch, field):
    r = world.post("/api/v1/programmes", world.admin, programme_body(**patch))
    assert r.status_code == 422, r.text
    assert field in fields(r)


def test_programme_money_is_whole_rupiah(world):
    r = world.post("/api/v1/programmes", world.admin, programme_body(budget_ceiling=1_000_000.5))
    assert r.status_code == 400 and fields(r) == ["budget_ceiling"]


def test_lanjutan_needs_a_completed_pemula_and_a_field_visit(world):
    lanjutan = world.post(
        "/api/v1/programmes", world.admin, programme_body(workflow="tkm-lanjutan", name="TKM Lanjutan 2021")
    ).json()
    group = world.make_group(world.applicant, name="Kelompok Naik Kelas")
    follow_up = world.new_application(group=group, programme=lanjutan["code"])
    for kind in ("proposal", "ktp", "sk_kelompok"):
        world.upload(follow_up["id"], kind)
    r = world.act(follow_up["id"], "submit", world.applicant)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "group_id"

    first = world.new_application(group=group)
    world.to_state(first["id"], "completed")
    r = world.act(follow_up["id"], "submit", world.applicant)
    assert r.status_code == 200, r.text
    world.act(follow_up["id"], "start_review", world.reviewer, {"no_conflict_of_interest": True})
    app = world.app(follow_up["id"], world.reviewer)
    assert "recommend" not in app["allowed_actions"] and "verify_field" in app["allowed_actions"]
    r = world.act(follow_up["id"], "recommend", world.reviewer, world.recommend_body(app))
    assert r.status_code == 409
    r = world.act(follow_up["id"], "verify_field", world.reviewer, {"visit_date": "2021-02-30", "findings": "x"})
    assert r.status_code == 422 and fields(r) == ["visit_date"]
    r = world.act(
        follow_up["id"],
        "verify_field",
        world.reviewer,
        {"visit_date": "2021-03-02", "findings": "Mesin jahit ada dan dipakai."},
    )
    assert r.status_code == 200 and r.json()["status"] == "field_verified"
    r = world.act(follow_up["id"], "recommend", world.reviewer, world.recommend_body(app))
    assert r.status_code == 200 and r.json()["status"] == "recommended"
    assert r.json()["score"] == round((30 * 4 + 20 * 4 + 20 * 3 + 20 * 4 + 10 * 5) / 5)
