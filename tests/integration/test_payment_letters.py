"""The paper money leaves: an SPM when a tranche is authorized, a BAST when it is paid, and the funds
trail as a PDF (rendered by the same code the worker runs)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tkm.core.money import rupiah
from tkm.programmes.services import today


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def documents(world, app_id, kind=None):
    items = world.get(f"/api/v1/applications/{app_id}/documents", world.finance).json()
    return [d for d in items if kind is None or d["kind"] == kind]


def render_all(world, app_id):
    from tkm.documents import services

    for d in documents(world, app_id):
        if d["status"] == "pending":
            world.api.call(services.render, d["id"])


def text_of(world, document_id, user):
    r = world.get(f"/api/v1/documents/{document_id}/pdf", user)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)


def test_authorize_issues_an_spm_and_pay_a_bast(world):
    group = world.make_group(world.applicant, name="Kelompok Bukti Bayar")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
        if t["component"] == "capital" and t["seq"] == 1
    )
    world.post(f"/api/v1/tranches/{tranche['id']}/actions/request", world.finance, {})
    assert documents(world, app["id"], "payment_order") == []
    world.post(f"/api/v1/tranches/{tranche['id']}/actions/authorize", world.finance2, {})
    assert len(documents(world, app["id"], "payment_order")) == 1
    r = world.post(
        f"/api/v1/tranches/{tranche['id']}/actions/pay",
        world.finance,
        {"transfer_reference": "BRI-SPM-1", "paid_at": today().isoformat()},
    )
    assert r.status_code == 200
    render_all(world, app["id"])
    (spm,) = documents(world, app["id"], "payment_order")
    (bast,) = documents(world, app["id"], "handover_record")
    spm_text = text_of(world, spm["id"], world.finance)
    assert spm["number"] in spm_text and "Kelompok Bukti Bayar" in spm_text and rupiah(7_000_000) in spm_text
    bast_text = text_of(world, bast["id"], world.applicant)
    assert bast["number"] in bast_text and rupiah(7_000_000) in bast_text and "tujuh juta rupiah" in bast_text


def test_funds_trail_pdf(world):
    group = world.make_group(world.applicant, name="Kelompok Jejak Dana")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    world.pay_all(app["id"])
    url = f"/api/v1/applications/{app['id']}/funds-trail"
    r = world.client.get(url, params={"format": "pdf"}, headers=world.auditor_headers, follow_redirects=False)
    assert r.status_code == 202 and r.headers["location"] == f"/api/v1/documents/{r.json()['id']}/pdf"
    assert r.json()["kind"] == "funds_trail" and r.json()["status"] == "pending"
    render_all(world, app["id"])
    again = world.client.get(url, params={"format": "pdf"}, headers=world.auditor_headers, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    totals = world.get(url, world.finance).json()["totals"]
    text = text_of(world, r.json()["id"], world.finance)
    assert rupiah(totals["disbursed"]) in text and "Kelompok Jejak Dana" in text


@pytest.fixture(scope="module", autouse=True)
def auditor(world):
    world.auditor_headers = world.api.make_user("auditor")["headers"]


def test_funds_trail_pdf_speaks_in_words_and_keeps_the_balance_whole(world, tmp_path):
    from tkm.testing.time_travel import approve_in_the_past, period

    group = world.make_group(world.applicant, name="Kelompok Jejak Kata")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], 1)
    world.pay_all(app["id"])
    world.accepted_report(app["id"], period=period(1))
    url = f"/api/v1/applications/{app['id']}/funds-trail"
    r = world.client.get(url, params={"format": "pdf"}, headers=world.auditor_headers, follow_redirects=False)
    render_all(world, app["id"])
    entries = world.get(url, world.finance).json()["entries"]
    pdf = world.get(f"/api/v1/documents/{r.json()['id']}/pdf", world.finance).content
    (tmp_path / "funds-trail.pdf").write_bytes(pdf)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    printed = world.api.call(letters.snapshot, r.json()["id"])["entries"]
    kinds, components = {e["kind_label"] for e in printed}, {e["label"] for e in printed}
    assert {"Penyaluran ke kelompok", "Belanja (laporan)", "Komitmen anggaran"} <= kinds
    assert {"Bahan baku", "Modal usaha"} <= components
    assert "Bahan baku" in text and "Penyaluran" in text
    for code in ("payment", "report_expense", "raw_materials", "capital", "commit"):
        assert code not in text and code not in kinds | components
    lines = text.splitlines()
    # Every balance is printed whole, on one line (a column too narrow would break "Rp1.234.567").
    for entry in entries:
        assert any(rupiah(entry["balance_after"]) in line for line in lines), entry
