"""Regional quotas of a programme: the rules of the quotas, approvals refused beyond a quota (nothing written),
nested quotas, changing the quotas, the batch approval page and the dashboard's figures (both databases)."""

from __future__ import annotations

import itertools
import threading

import httpx
import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text
from tkm.testing.builders import programme_body

#: The default budget of tkm.testing.builders.budget(): 10M capital, 50 × 80,000 wages, 2M, 1M.
BUDGET = 17_000_000
_names = itertools.count(1)


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def fields(r):
    return [e["field"] for e in r.json().get("errors", [])]


def new_programme(world, **overrides):
    r = world.post("/api/v1/programmes", world.admin, programme_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def recommended(world, programme, region="13.71"):
    """An application of a new group in ``region``, recommended with its whole budget (17M)."""
    group = world.make_group(world.applicant, region=region, name=f"Kelompok Kuota {next(_names)}")
    app = world.new_application(group=group, programme=programme["code"])
    return world.to_state(app["id"], "recommended")


def approve(world, app):
    return world.act(app["id"], "approve", world.approver, {"notes": "Disetujui."})


@pytest.mark.parametrize(
    ("quotas", "field"),
    [
        ({"13.99": 10_000_000}, "quotas.13.99"),  # no such region
        ({"31.71": 10_000_000}, "quotas.31.71"),  # Jakarta: outside a programme for West Sumatra (13)
        ({"13.71": -1}, "quotas.13.71"),
        ({"13.71": 600_000_000, "13.72": 500_000_000}, "quotas"),  # more than the 1,000M ceiling
        ({"13": 30_000_000, "13.71": 20_000_000, "13.72": 20_000_000}, "quotas.13"),  # nested more than their parent
    ],
)
def test_quotas_are_checked(world, quotas, field):
    r = world.post("/api/v1/programmes", world.admin, programme_body(quotas=quotas))
    assert r.status_code == 422, r.text
    assert fields(r) == [field]


def test_quotas_are_whole_rupiah(world):
    r = world.post("/api/v1/programmes", world.admin, programme_body(quotas={"13.71": 1_000_000.5}))
    assert r.status_code == 400


def test_programme_json_carries_its_quotas(world):
    quotas = {"13": 900_000_000, "13.71": 400_000_000, "13.72": 0}
    programme = new_programme(world, quotas=quotas)
    assert programme["quotas"] == quotas
    assert world.get(f"/api/v1/programmes/{programme['code']}", world.applicant).json()["quotas"] == quotas
    assert new_programme(world)["quotas"] == {}


def test_approving_beyond_a_quota_is_refused_and_writes_nothing(world):
    programme = new_programme(world, quotas={"13.71": 40_000_000})
    first, second, third = (recommended(world, programme) for _ in range(3))
    elsewhere = recommended(world, programme, region="13.72")  # Kota Solok has no quota
    assert approve(world, first).status_code == 200
    assert approve(world, second).status_code == 200

    before = world.app(third["id"])
    r = approve(world, third)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["detail"] == (
        "Kuota wilayah Kota Padang (13.71): tersisa Rp6.000.000, persetujuan ini perlu Rp17.000.000."
    )
    assert {k: problem[k] for k in ("region", "quota", "used", "left", "needed")} == {
        "region": "13.71",
        "quota": 40_000_000,
        "used": 2 * BUDGET,
        "left": 6_000_000,
        "needed": BUDGET,
    }
    after = world.app(third["id"])
    assert (after["status"], after["version"], after["approved_total"]) == ("recommended", before["version"], 0)
    assert [e["action"] for e in after["history"]] == [e["action"] for e in before["history"]]
    trail = world.get(f"/api/v1/applications/{third['id']}/funds-trail", world.finance).json()
    assert trail["entries"] == [] and trail["totals"]["approved"] == 0
    assert world.get(f"/api/v1/applications/{third['id']}/tranches", world.finance).json() == []
    documents = world.get(f"/api/v1/applications/{third['id']}/documents", world.approver).json()
    assert "approval_decree" not in {d["kind"] for d in documents}

    assert approve(world, elsewhere).status_code == 200, "a region without a quota is not limited"


def test_nested_quotas_must_each_have_room(world):
    programme = new_programme(world, quotas={"13": 40_000_000, "13.71": 20_000_000})
    padang = [recommended(world, programme) for _ in range(2)]
    solok = [recommended(world, programme, region="13.72") for _ in range(2)]
    assert approve(world, padang[0]).status_code == 200
    r = approve(world, padang[1])  # 13 has 23M left, but 13.71 only 3M
    assert r.status_code == 409 and (r.json()["region"], r.json()["left"]) == ("13.71", 3_000_000), r.text
    assert approve(world, solok[0]).status_code == 200  # 13.72 falls under 13 only: 34M of 40M
    r = approve(world, solok[1])
    assert r.status_code == 409, r.text
    assert (r.json()["region"], r.json()["used"], r.json()["left"]) == ("13", 2 * BUDGET, 6_000_000)
    assert "Sumatera Barat (13)" in r.json()["detail"]


def test_changing_quotas(world):
    programme = new_programme(world, quotas={"13.71": 20_000_000})
    code = programme["code"]
    first, second = recommended(world, programme), recommended(world, programme)
    assert approve(world, first).status_code == 200
    assert approve(world, second).status_code == 409

    patch = world.client.patch
    r = patch(f"/api/v1/programmes/{code}", json={"quotas": {"13.71": 16_000_000}}, headers=world.admin["headers"])
    assert r.status_code == 409, r.text
    assert fields(r) == ["quotas.13.71"] and "Rp17.000.000" in r.json()["errors"][0]["message"]
    assert r.json()["approved"] == {"13.71": BUDGET}
    r = patch(f"/api/v1/programmes/{code}", json={"quotas": {"77": 1}}, headers=world.admin["headers"])
    assert r.status_code == 422 and fields(r) == ["quotas.77"]
    r = patch(f"/api/v1/programmes/{code}", json={"quotas": {"13.71": 50_000_000}}, headers=world.approver["headers"])
    assert r.status_code == 403
    assert patch("/api/v1/programmes/NO-SUCH", json={"quotas": {}}, headers=world.admin["headers"]).status_code == 404
    assert patch("/api/v1/programmes/X%00Y", json={"quotas": {}}, headers=world.admin["headers"]).status_code == 404
    assert world.get(f"/api/v1/programmes/{code}", world.admin).json()["quotas"] == {"13.71": 20_000_000}

    r = patch(f"/api/v1/programmes/{code}", json={"quotas": {"13.71": BUDGET * 2}}, headers=world.admin["headers"])
    assert r.status_code == 200 and r.json()["quotas"] == {"13.71": BUDGET * 2}
    assert approve(world, second).status_code == 200, "raised exactly to what both need"


def test_batch_approval_reports_the_quota_per_item(world, client):
    programme = new_programme(world, quotas={"13.71": 20_000_000})
    fits, over = recommended(world, programme), recommended(world, programme)
    pages = Pages(client).login(world.approver)
    picked = [("application", f"{a['id']}:{world.app(a['id'])['version']}") for a in (fits, over)]
    r = pages.post("/approvals", [*picked, ("action", "approve"), ("text", "Disetujui bersama.")])
    page = text(pages.follow(r).text)
    assert "1 dari 2 permohonan berhasil diproses." in page
    assert f"#{fits['id']}: Setujui, sekarang Disetujui." in page
    assert f"#{over['id']} ditolak sistem: Kuota wilayah Kota Padang (13.71): tersisa Rp3.000.000" in page
    assert world.app(over["id"])["status"] == "recommended"


def test_dashboard_quotas_equal_the_approved_budgets(world, client):
    quotas = {"13": 100_000_000, "13.71": 60_000_000, "13.72": 30_000_000}
    programme = new_programme(world, quotas=quotas)
    apps = [recommended(world, programme, region) for region in ("13.71", "13.71", "13.72", "13.72")]
    for app in apps[:3]:
        assert approve(world, app).status_code == 200
    approved = {a["id"]: world.app(a["id"])["approved_total"] for a in apps}
    by_region = {
        "13": sum(approved.values()),
        "13.71": approved[apps[0]["id"]] + approved[apps[1]["id"]],
        "13.72": approved[apps[2]["id"]] + approved[apps[3]["id"]],
    }
    assert by_region == {"13": 3 * BUDGET, "13.71": 2 * BUDGET, "13.72": BUDGET}

    r = world.get("/api/v1/dashboard", world.admin, params={"programme": programme["code"]})
    assert r.status_code == 200, r.text
    assert r.json()["quotas"] == [
        {
            "region": code,
            "region_name": name,
            "quota": quotas[code],
            "used": by_region[code],
            "left": quotas[code] - by_region[code],
        }
        for code, name in (("13", "Sumatera Barat"), ("13.71", "Kota Padang"), ("13.72", "Kota Solok"))
    ]
    # A region filter keeps the quotas inside it and those enclosing it; no programme, no quotas.
    r = world.get("/api/v1/dashboard", world.admin, params={"programme": programme["code"], "region": "13.72"})
    assert [q["region"] for q in r.json()["quotas"]] == ["13", "13.72"]
    assert world.get("/api/v1/dashboard", world.admin).json()["quotas"] == []
    # Staff of Kota Solok see the quotas that bound their approvals, not Padang's.
    solok = world.api.make_user("reviewer", ["13.72"])
    r = world.get("/api/v1/dashboard", solok, params={"programme": programme["code"]})
    assert [q["region"] for q in r.json()["quotas"]] == ["13", "13.72"]

    page = Pages(client).login(world.admin).get("/dashboard", params={"programme": programme["code"]})
    assert page.status_code == 200
    shown = text(page.text)
    assert "Kuota wilayah" in shown
    assert "Kota Padang (13.71) Rp60.000.000 Rp34.000.000 Rp26.000.000" in shown


@pytest.mark.slow
def test_two_approvals_at_once_cannot_both_use_the_last_of_a_quota(world, server):
    """Two approvers, two applications of one region, room for one: exactly one is approved (real server)."""
    programme = new_programme(world, quotas={"13.71": 30_000_000})
    apps = [recommended(world, programme), recommended(world, programme)]
    second_approver = world.api.make_user("approver", ["13"])
    barrier = threading.Barrier(2)
    results: list[httpx.Response] = []

    def approve_now(user, app):
        with httpx.Client(base_url=server, timeout=30) as client:
            barrier.wait()
            url = f"/api/v1/applications/{app['id']}/actions/approve"
            results.append(client.post(url, json={"notes": "ok"}, headers=user["headers"]))

    threads = [
        threading.Thread(target=approve_now, args=(user, app))
        for user, app in zip((world.approver, second_approver), apps, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    refused = next(r for r in results if r.status_code == 409).json()
    assert (refused["used"], refused["left"]) == (BUDGET, 30_000_000 - BUDGET)
    assert sorted(world.app(a["id"])["status"] for a in apps) == ["approved", "recommended"]
    r = world.get("/api/v1/dashboard", world.admin, params={"programme": programme["code"]})
    assert [(q["used"], q["left"]) for q in r.json()["quotas"]] == [(BUDGET, 30_000_000 - BUDGET)]
