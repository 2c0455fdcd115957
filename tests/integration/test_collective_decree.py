"""The collective SK: ``POST /api/v1/approvals`` decides several applications; each fails alone with its
problem; the approved ones yield one collective decree listing every group and an extract (petikan) each, which
agree with each other and with the approved budgets (read back from the PDFs with pypdf)."""

from __future__ import annotations

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages
from tkm.core.money import rupiah, terbilang_rupiah
from tkm.documents.renderer import tanggal
from tkm.testing.builders import programme_body


@pytest.fixture(scope="module")
def world(module_client):
    # Region 13.72 may approve almost nothing: its applications are refused by the quota guard.
    return World(Api(module_client), programme=programme_body(quotas={"13.72": 1_000_000}))


def decide(world, body, user=None):
    return world.post("/api/v1/approvals", user or world.approver, body)


def docs(world, app_id, kind):
    items = world.get(f"/api/v1/applications/{app_id}/documents", world.approver).json()
    return [d for d in items if d["kind"] == kind]


def text_of(world, document_id, user):
    info = world.get(f"/api/v1/documents/{document_id}", user).json()
    if info["rendering"] == "pending":
        assert letters.render(world.api, document_id) == "rendered"
    return letters.pdf_text(letters.download(world.api, document_id, user["headers"])), info


def recommended(world, name, region="13.71"):
    group = world.make_group(world.applicant, region=region, name=name)
    return world.to_state(world.new_application(group=group)["id"], "recommended")


def test_one_decree_for_the_approved_each_failure_alone(world):
    first = recommended(world, "Kelompok Kolektif Satu")
    second = world.new_application(group=world.make_group(world.applicant, name="Kelompok Kolektif Draf"))
    third = recommended(world, "Kelompok Kolektif Tiga")
    over_quota = recommended(world, "Kelompok Kolektif Kuota", region="13.72")
    fourth = recommended(world, "Kelompok Kolektif Empat")
    ids = [first["id"], second["id"], third["id"], over_quota["id"], fourth["id"]]
    before = {i: world.app(i) for i in (second["id"], over_quota["id"])}

    r = decide(world, {"applications": ids, "action": "approve", "notes": "Ditetapkan bersama."})
    assert r.status_code == 200, r.text
    results = r.json()
    assert [item["id"] for item in results] == ids
    by_id = {item["id"]: item for item in results}
    approved = [first["id"], third["id"], fourth["id"]]
    for i in approved:
        assert by_id[i]["status"] == "approved" and by_id[i]["problem"] is None
    wrong_state = by_id[second["id"]]
    assert wrong_state["problem"]["status"] == 409 and wrong_state["status"] == "draft"
    refused = by_id[over_quota["id"]]
    assert refused["problem"]["status"] == 409 and refused["problem"]["region"] == "13.72"
    for i, was in before.items():  # nothing written for the items that failed
        now = world.app(i)
        assert (now["status"], now["version"], len(now["history"])) == (
            was["status"],
            was["version"],
            len(was["history"]),
        )
        assert docs(world, i, "decree_extract") == [] and docs(world, i, "cooperation_agreement") == []
    trail = world.get(f"/api/v1/applications/{over_quota['id']}/funds-trail", world.finance).json()
    assert trail["totals"]["approved"] == 0

    decrees = {by_id[i]["documents"]["collective_decree"] for i in approved}
    assert len(decrees) == 1, "one collective decree for the call"
    (decree_id,) = decrees
    for i in approved:
        assert docs(world, i, "approval_decree") == [], "the collective decree replaces each group's own"
        assert [d["id"] for d in docs(world, i, "decree_extract")] == [by_id[i]["documents"]["decree_extract"]]
        assert len(docs(world, i, "cooperation_agreement")) == 1
        assert world.app(i)["history"][-1]["notes"] == "Ditetapkan bersama."

    # The decree, the extracts and the approved budgets agree.
    decree_text, decree = text_of(world, decree_id, world.approver)
    assert decree["kind"] == "collective_decree" and decree["application_id"] is None
    assert "Kelompok Kolektif Draf" not in decree_text and "Kelompok Kolektif Kuota" not in decree_text
    grand = 0
    for i in approved:
        app = world.app(i)
        grand += app["approved_total"]
        name = next(g for g in ("Satu", "Tiga", "Empat") if g in app["group"]["name"])
        assert f"Kelompok Kolektif {name}" in decree_text
        row = decree_text.split(f"Kelompok Kolektif {name}", 1)[1]
        row = row.split("Kelompok Kolektif", 1)[0]
        cells = [rupiah(app["approved_budget"][c]) for c in ("capital", "wages", "product_development", "marketing")]
        assert " ".join([*cells, rupiah(app["approved_total"])]) in row, (row, cells)
        assert "Kota Padang" in row, "the region"

        extract_text, extract = text_of(world, by_id[i]["documents"]["decree_extract"], world.applicant)
        assert decree["number"] in extract_text
        assert f"Kelompok Kolektif {name}" in extract_text
        assert rupiah(app["approved_total"]) in extract_text and terbilang_rupiah(app["approved_total"]) in extract_text
        for component, amount in app["approved_budget"].items():
            assert rupiah(amount) in extract_text, component
        snapshot = world.api.call(letters.snapshot, extract["id"])
        assert snapshot["collective"]["number"] == decree["number"]
        assert snapshot["row"]["total"] == app["approved_total"] == sum(app["approved_budget"].values())
        assert tanggal(snapshot["collective"]["on"]).upper() in extract_text
    assert rupiah(grand) in decree_text and terbilang_rupiah(grand) in decree_text
    assert "3 kelompok" in decree_text

    # The agreement and the payment letters cite the collective decree.
    agreement = docs(world, first["id"], "cooperation_agreement")[0]
    agreement_text, _info = text_of(world, agreement["id"], world.applicant)
    assert decree["number"] in agreement_text
    assert world.upload(first["id"], "agreement").status_code == 201
    assert world.act(first["id"], "sign_agreement", world.applicant).status_code == 200
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{first['id']}/tranches", world.finance).json()
        if t["component"] == "capital" and t["seq"] == 1
    )
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/request", world.finance, {}).status_code == 200
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/authorize", world.finance2, {}).status_code == 200
    (order,) = docs(world, first["id"], "payment_order")
    assert world.api.call(letters.snapshot, order["id"])["decree"]["number"] == decree["number"]


def test_reject_several_each_gets_its_letter(world):
    apps = [recommended(world, f"Kelompok Tolak Kolektif {n}") for n in ("A", "B")]
    r = decide(world, {"applications": [a["id"] for a in apps], "action": "reject", "reasons": "Anggaran habis."})
    assert r.status_code == 200, r.text
    assert [item["status"] for item in r.json()] == ["rejected", "rejected"]
    for item in r.json():
        assert item["documents"]["rejection_letter"] == docs(world, item["id"], "rejection_letter")[0]["id"]
        assert "collective_decree" not in item["documents"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"applications": [], "action": "approve"}, "applications"),
        ({"applications": [1], "action": "launch"}, "action"),
        ({"applications": [1], "action": "reject"}, "reasons"),
        ({"applications": [1, "2"], "action": "approve"}, "applications[1]"),
        ({"applications": [1, 2**31], "action": "approve"}, "applications[1]"),
        ({"applications": [3, 3], "action": "approve"}, "applications[1]"),
        ({"applications": [1], "action": "approve", "notes": 5}, "notes"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, body, field):
    r = decide(world, body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_only_approvers_decide(world):
    app = recommended(world, "Kelompok Bukan Penyetuju")
    r = decide(world, {"applications": [app["id"]], "action": "approve"}, user=world.reviewer)
    assert r.status_code == 403
    assert world.app(app["id"])["status"] == "recommended"


def test_the_approvals_page_decides_collectively(world, client):
    apps = [recommended(world, f"Kelompok Halaman Kolektif {n}") for n in ("A", "B")]
    pages = Pages(client).login(world.approver)
    picked = [("application", f"{a['id']}:{world.app(a['id'])['version']}") for a in apps]
    r = pages.post("/approvals", [*picked, ("action", "approve"), ("text", "Disetujui bersama.")])
    assert r.status_code == 303
    page = pages.follow(r).text
    assert "/api/v1/documents/" in page
    extracts = [docs(world, a["id"], "decree_extract")[0] for a in apps]
    cited = {world.api.call(letters.snapshot, e["id"])["collective"]["id"] for e in extracts}
    assert len(cited) == 1, "one decree for the ticked applications"
    assert f"/api/v1/documents/{cited.pop()}/pdf" in page
