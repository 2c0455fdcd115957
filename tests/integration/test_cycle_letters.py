"""The documents of the juknis cycle after the application: the group's statement of commitment (submission),
the cooperation agreement (approval; its signed copy before any money moves), the receipt and payment request
of each tranche (request), the accountability report (completion). Rendered by real WeasyPrint, read back
with pypdf."""

from __future__ import annotations

import re

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tkm.core.money import rupiah, terbilang_rupiah

#: Codes that must never reach a letter (components, conditions, pools, member roles as stored, None).
RAW_CODES = re.compile(
    r"\b(capital|wages|product_development|marketing|on_approval|after_first_accepted_report|"
    r"after_accepted_reports|grant_spent|own_spent|raw_materials|hand_sanitizer|None|sk_kelompok)\b"
)


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def docs(world, app_id, kind):
    items = world.get(f"/api/v1/applications/{app_id}/documents", world.finance).json()
    return [d for d in items if d["kind"] == kind]


def text_of(world, document, user=None):
    if document["rendering"] == "pending":
        assert letters.render(world.api, document["id"]) == "rendered"
    content = letters.download(world.api, document["id"], (user or world.finance)["headers"])
    text = letters.pdf_text(content)
    assert document["number"] in text
    assert not RAW_CODES.search(text), RAW_CODES.search(text)
    return text


def test_submission_issues_the_statement_of_commitment(world):
    group = world.make_group(world.applicant, name="Kelompok Sanggup Jahit", member_count=6)
    app = world.to_state(world.new_application(group=group)["id"], "submitted")
    (statement,) = docs(world, app["id"], "commitment_statement")
    text = text_of(world, statement, world.applicant)
    assert "SURAT PERNYATAAN KESANGGUPAN" in text and "Kelompok Sanggup Jahit" in text
    # every member is listed, the leader signs
    members = world.get(f"/api/v1/groups/{group['id']}", world.applicant).json()["members"]
    for member in members:
        assert member["name"] in text
    leader = next(m for m in members if m["role"] == "ketua")
    assert "Yang menyatakan" in text and leader["name"] in text.split("Yang menyatakan")[-1]
    # the commitments: per the RAB, monthly reports, unspent money back to the treasury
    assert "sesuai rencana anggaran biaya" in text and "setiap bulan" in text and "Kas Negara" in text
    assert rupiah(app["requested_total"]) in text and rupiah(10_000_000) in text and "Mesin jahit" in text


def test_approval_issues_the_agreement_and_no_money_moves_before_its_signed_copy(world):
    group = world.make_group(world.applicant, name="Kelompok Perjanjian Tenun")
    app = world.new_application(group=group)
    assert world.upload(app["id"], "agreement").status_code == 201  # a copy uploaded before approval does not count
    app = world.to_state(app["id"], "approved")
    (agreement,) = docs(world, app["id"], "cooperation_agreement")
    (decree,) = docs(world, app["id"], "approval_decree")
    text = text_of(world, agreement, world.applicant)
    assert "PIHAK PERTAMA" in text and "PIHAK KEDUA" in text and "Kelompok Perjanjian Tenun" in text
    assert decree["number"] in text, "the agreement cites the decree"
    assert rupiah(app["approved_total"]) in text and terbilang_rupiah(app["approved_total"]) in text
    for component, amount in app["approved_budget"].items():
        assert rupiah(amount) in text, component
    tranches = world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
    for t in tranches:
        assert rupiah(t["amount"]) in text
    assert "Setelah laporan bulanan pertama kelompok diterima" in text, "conditions in words"
    assert "SANKSI" in text and "KEWAJIBAN PIHAK KEDUA" in text

    refused = world.act(app["id"], "sign_agreement", world.applicant)
    assert refused.status_code == 409, refused.text
    assert "Perjanjian kerja sama yang sudah ditandatangani belum ada" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "attachments"
    first = next(t for t in tranches if t["component"] == "capital" and t["seq"] == 1)
    assert world.post(f"/api/v1/tranches/{first['id']}/actions/request", world.finance, {}).status_code == 409
    assert world.app(app["id"])["status"] == "approved"

    assert world.upload(app["id"], "agreement", filename="perjanjian-ditandatangani.pdf").status_code == 201
    signed = world.act(app["id"], "sign_agreement", world.applicant)
    assert signed.status_code == 200, signed.text
    assert world.post(f"/api/v1/tranches/{first['id']}/actions/request", world.finance, {}).status_code == 200


def test_a_tranche_request_issues_the_receipt_and_the_spp(world):
    group = world.make_group(world.applicant, name="Kelompok Kuitansi Rajut")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    tranches = world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
    big = next(t for t in tranches if t["component"] == "capital" and t["seq"] == 1)
    small = next(t for t in tranches if t["component"] == "product_development")
    assert big["amount"] > 5_000_000 >= small["amount"]
    for t in (big, small):
        assert world.post(f"/api/v1/tranches/{t['id']}/actions/request", world.finance, {}).status_code == 200
    receipts = docs(world, app["id"], "payment_receipt")
    requests = docs(world, app["id"], "payment_request")
    assert len(receipts) == 2 and len(requests) == 2
    (agreement,) = docs(world, app["id"], "cooperation_agreement")

    big_receipt = text_of(world, receipts[0], world.applicant)
    assert rupiah(big["amount"]) in big_receipt and terbilang_rupiah(big["amount"]) in big_receipt
    assert "Meterai" in big_receipt, "a receipt above Rp5.000.000 has a duty stamp box"
    assert "Bendahara Kelompok Kuitansi Rajut" in big_receipt and "Ketua Kelompok Kuitansi Rajut" in big_receipt
    assert "Setuju dibayar" in big_receipt and agreement["number"] in big_receipt
    small_receipt = text_of(world, receipts[1], world.applicant)
    assert rupiah(small["amount"]) in small_receipt and "Meterai" not in small_receipt

    spp = text_of(world, requests[0])
    assert "SURAT PERMINTAAN PEMBAYARAN" in spp and "Pejabat Penandatangan Surat Perintah Membayar" in spp
    approved_capital = app["approved_budget"]["capital"]
    # approved, paid so far, this request, what remains
    assert rupiah(approved_capital) in spp and rupiah(big["amount"]) in spp
    assert rupiah(approved_capital - big["amount"]) in spp
    assert docs(world, app["id"], "payment_order") == [], "the SPM comes with the authorization, after the SPP"


def test_a_refused_payment_keeps_its_receipt_and_spp_and_the_next_request_issues_no_second(world):
    group = world.make_group(world.applicant, name="Kelompok Gagal Transfer")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
        if t["component"] == "product_development"
    )
    tranche = world.pay(tranche)
    r = world.post(f"/api/v1/tranches/{tranche['id']}/actions/fail", world.finance, {"reason": "Rekening ditutup"})
    assert r.status_code == 200, r.text
    assert world.pay(r.json())["status"] == "paid"
    orders = docs(world, app["id"], "payment_order")
    assert [d["status"] == "void" for d in orders] == [True, False], "the SPM of the refused payment is void"
    for kind in ("payment_receipt", "payment_request"):
        (letter,) = docs(world, app["id"], kind)
        assert letter["status"] != "void" and letter["void_reason"] is None


def test_completion_issues_the_accountability_report(world):
    group = world.make_group(world.applicant, name="Kelompok Lapor Akhir")
    app = world.to_state(world.new_application(group=group)["id"], "completed")
    (report,) = docs(world, app["id"], "accountability_report")
    totals = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.finance).json()["totals"]
    text = text_of(world, report, world.applicant)
    assert "LAPORAN PERTANGGUNGJAWABAN" in text and "Kelompok Lapor Akhir" in text
    for component, row in totals["by_component"].items():
        assert rupiah(row["approved"]) in text and rupiah(row["disbursed"]) in text, component
    assert rupiah(totals["disbursed"]) in text and rupiah(totals["returned"]) in text
    assert totals["returned"] > 0, "the demo path deposits what was not spent"
    assert rupiah(totals["revenue"]) in text and rupiah(totals["own_spent"]) in text
    assert "Masker 2.000 pcs 1.600" in text, "production and sales of two months, the product in words"
    assert "1.600" in text, "sales of two months"
    assert "10 orang" in text, "workers"
    assert "bukti-setor.pdf" in text, "the proof of deposit is listed among the attachments"
    assert "Yang melaporkan" in text and "Mengetahui" in text
