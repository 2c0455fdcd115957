"""Applications: budget rules against the programme, programme window, attachments, lists."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today
from tkm.testing.builders import budget, plan, programme_body
from tkm.testing.samples import JPEG_BYTES, PDF_BYTES, PNG_BYTES


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def apply(world, group=None, **overrides):
    body = {
        "programme": world.programme["code"],
        "group_id": (group or world.group)["id"],
        "business_plan": plan(),
        "budget": budget(),
    }
    body.update(overrides)
    return world.post("/api/v1/applications", world.applicant, body)


def fields(response):
    return [e["field"] for e in response.json().get("errors", [])]


def test_a_draft_has_line_totals_and_component_totals(world):
    r = apply(world, group=world.make_group(world.applicant, name="Kelompok Draf"))
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "draft" and app["version"] == 1
    assert app["budget"][1]["total"] == 50 * 80_000
    assert app["budget_totals"] == {
        "capital": 10_000_000,
        "wages": 4_000_000,
        "product_development": 2_000_000,
        "marketing": 1_000_000,
    }
    assert app["requested_total"] == 17_000_000
    assert app["rubric"][0] == {"criterion": "business_feasibility", "label": "Kelayakan usaha", "weight": 30}
    assert app["approved_budget"] is None
    assert app["history"][0]["action"] == "create"


@pytest.mark.parametrize(
    ("line_patch", "field"),
    [
        ({"quantity": 0}, "budget[0].quantity"),
        ({"quantity": -3}, "budget[0].quantity"),
        ({"quantity": 1.5}, "budget[0].quantity"),
        ({"unit_cost": 0}, "budget[0].unit_cost"),
        ({"unit_cost": 99.9}, "budget[0].unit_cost"),
        ({"unit_cost": "100000"}, "budget[0].unit_cost"),
        ({"component": "holiday"}, "budget[0].component"),
        ({"description": ""}, "budget[0].description"),
    ],
)
def test_bad_budget_lines_are_named(world, line_patch, field):
    lines = budget()
    lines[0].update(line_patch)
    r = apply(world, budget=lines)
    assert r.status_code == 422, r.text
    assert field in fields(r)


def test_component_cap_daily_wage_cap_and_group_total(world):
    r = apply(world, budget=budget(capital=12_000_001))
    assert r.status_code == 422 and "budget.capital" in fields(r)
    r = apply(world, budget=budget(daily_wage=100_001))
    assert r.status_code == 422 and "budget[1].unit_cost" in fields(r)
    over = budget(
        capital=12_000_000, wages_days=60, daily_wage=100_000, product_development=4_000_000, marketing=3_000_000
    )  # 25,000,000 exactly is allowed ...
    assert apply(world, group=world.make_group(world.applicant, name="Kelompok Pas"), budget=over).status_code == 201
    over[3]["unit_cost"] += 1  # ... one rupiah more is not
    r = apply(world, budget=over)
    assert r.status_code == 422 and "budget" in fields(r)


def test_business_plan_is_checked(world):
    bad = plan()
    bad["workers"] = 0
    bad["products"][0]["unit_price"] = -1
    r = apply(world, business_plan=bad)
    assert r.status_code == 422
    assert {"business_plan.workers", "business_plan.products[0].unit_price"} <= set(fields(r))


def test_programme_must_be_open_and_cover_the_region(world):
    closed = world.post(
        "/api/v1/programmes",
        world.admin,
        programme_body(
            opens_on=(today() - dt.timedelta(days=90)).isoformat(),
            closes_on=(today() - dt.timedelta(days=1)).isoformat(),
        ),
    ).json()
    r = apply(world, programme=closed["code"])
    assert r.status_code == 409 and "programme" in fields(r)
    elsewhere = world.post("/api/v1/programmes", world.admin, programme_body(regions=["31"])).json()
    r = apply(world, programme=elsewhere["code"])
    assert r.status_code == 422 and "group_id" in fields(r)
    r = apply(world, programme="NOPE-2020")
    assert r.status_code == 422 and "programme" in fields(r)


def test_only_own_groups_and_one_open_application_per_programme(world):
    stranger = world.api.make_user("applicant")
    r = world.post(
        "/api/v1/applications",
        stranger,
        {
            "programme": world.programme["code"],
            "group_id": world.group["id"],
            "business_plan": plan(),
            "budget": budget(),
        },
    )
    assert r.status_code == 422 and "group_id" in fields(r)
    group = world.make_group(world.applicant, name="Kelompok Sekali")
    assert apply(world, group=group).status_code == 201
    r = apply(world, group=group)
    assert r.status_code == 409


def test_attachments_by_content_size_and_access(world):
    app = apply(world, group=world.make_group(world.applicant, name="Kelompok Berkas")).json()
    for content, name, mime in (
        (PDF_BYTES, "proposal.pdf", "application/pdf"),
        (PNG_BYTES, "ktp.png", "image/png"),
        (JPEG_BYTES, "foto.jpg", "image/jpeg"),
    ):
        r = world.upload(app["id"], "proposal", content, filename=name)
        assert r.status_code == 201, r.text
        stored = world.get(r.json()["url"], world.applicant).content
        assert r.json()["content_type"] == mime and r.json()["sha256"] == hashlib.sha256(stored).hexdigest()
        if mime == "application/pdf":  # images are decoded and encoded again (tests/resilience/test_uploads.py)
            assert stored == content
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200  # a Windows program
    r = world.upload(app["id"], "proposal", exe, filename="proposal.pdf")
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = world.upload(app["id"], "proposal", b"just some text that claims to be a pdf", filename="x.pdf")
    assert r.status_code == 415
    r = world.upload(app["id"], "proposal", PDF_BYTES + b"\0" * (11 * 1024 * 1024), filename="big.pdf")
    assert r.status_code == 413, r.text
    r = world.upload(app["id"], "proposal", PDF_BYTES + b"\0" * (10 * 1024 * 1024), filename="just-over.pdf")
    assert r.status_code == 413, r.text
    r = world.upload(app["id"], "passport", PDF_BYTES)
    assert r.status_code == 422 and fields(r) == ["kind"]
    stored = world.app(app["id"])["attachments"]
    assert len(stored) == 3
    url = stored[0]["url"]
    download = world.get(url, world.applicant)
    assert download.status_code == 200 and download.content == PDF_BYTES
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in download.headers["content-disposition"]
    assert world.get(url, world.reviewer).status_code == 200
    assert world.get(url, world.api.make_user("applicant")).status_code == 404
    assert world.get(url, world.api.make_user("reviewer", ["31"])).status_code == 404
    files = list((world.api.call(_data_dir) / "attachments").iterdir())
    assert all("proposal" not in f.name for f in files), "stored under random names"


async def _data_dir():
    from tkm.core.settings import get_settings

    return get_settings().data_dir


def test_applicant_edits_a_draft_but_not_after_submitting(world):
    app = apply(world, group=world.make_group(world.applicant, name="Kelompok Edit")).json()
    path = f"/api/v1/applications/{app['id']}"
    r = world.client.patch(
        path, json={"budget": budget(capital=5_000_000)}, headers={**world.applicant["headers"], "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["budget_totals"]["capital"] == 5_000_000
    assert (
        world.client.patch(
            path, json={"budget": budget()}, headers={**world.applicant["headers"], "If-Match": '"1"'}
        ).status_code
        == 412
    )
    world.to_state(app["id"], "submitted")
    assert world.client.patch(path, json={"budget": budget()}, headers=world.applicant["headers"]).status_code == 409


def test_lists_filter_scope_and_page(world):
    g1 = world.make_group(world.applicant, name="Kelompok Anggrek")
    a1 = apply(world, group=g1).json()
    world.to_state(a1["id"], "submitted")
    own = world.get("/api/v1/applications?per_page=200", world.applicant).json()
    assert a1["id"] in [i["id"] for i in own["items"]]
    stranger = world.api.make_user("applicant")
    assert world.get("/api/v1/applications", stranger).json()["total"] == 0
    submitted = world.get("/api/v1/applications?status=submitted&q=anggrek", world.reviewer).json()
    assert [i["id"] for i in submitted["items"]] == [a1["id"]]
    assert submitted["items"][0]["status_label"] == "Diajukan"
    assert (
        world.get(
            f"/api/v1/applications?programme={world.programme['code']}&region=13.71&per_page=1", world.reviewer
        ).json()["per_page"]
        == 1
    )
    assert world.get("/api/v1/applications?region=31", world.reviewer).json()["total"] == 0
    assert world.get("/api/v1/applications", world.api.make_user("reviewer", ["31"])).json()["total"] == 0
    r = world.get("/api/v1/applications?per_page=500", world.reviewer)
    assert r.status_code == 422 and fields(r) == ["per_page"]
    r = world.get("/api/v1/applications?page=0", world.reviewer)
    assert r.status_code == 422 and fields(r) == ["page"]
