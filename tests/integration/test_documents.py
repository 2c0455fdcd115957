"""Letters issued by workflow actions: numbers, frozen contexts, real PDFs, verification, downloads, access.

Runs on SQLite and PostgreSQL. Renders with real WeasyPrint, in the app's
event loop, exactly as the worker's task does (the worker itself is exercised
in test_documents_worker.py).
"""

from __future__ import annotations

import hashlib
import re

import pytest
import segno

from tests.support import letters
from tests.support.letters import APPROVED


@pytest.fixture(scope="module")
def cast(settings, module_client):
    from tests.support.api import Api

    return letters.make_cast(Api(module_client))


@pytest.fixture(scope="module")
def padang_office(settings, module_client, cast):
    """Disnaker Kota Padang issues the letters of groups in 13.71 (the default office covers the rest)."""
    body = {
        "code": "1371",
        "name": "Dinas Tenaga Kerja Kota Padang",
        "region": "13.71",
        "letterhead": ["Pemerintah Kota Padang", "Dinas Tenaga Kerja"],
        "address": "Jl. Bagindo Aziz Chan No. 1, Padang 25111",
        "contact": "Telepon (0751) 000000",
        "city": "Padang",
        "signatory_name": "Drs. Ahmad Fauzi, M.Si.",
        "signatory_title": "Kepala Dinas Tenaga Kerja Kota Padang",
        "signatory_nip": "197001011995031001",
        "signatories": {
            "payment_order": {
                "name": "Yulia Sari, S.E.",
                "title": "Pejabat Pembuat Komitmen",
                "nip": "198203032006042002",
            }
        },
    }
    response = module_client.post("/api/v1/offices", json=body, headers=cast.admin["headers"])
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def approved(settings, module_client, cast, padang_office):
    """One application taken from draft to approved through the workflow engine."""
    from tests.support.api import Api

    api = Api(module_client)
    grant = letters.make_grant(api, cast)
    grant.to_recommended(api)
    grant.approve(api)
    return grant


def ready_pdf(api, document_id, headers):
    assert letters.render(api, document_id) in ("rendered", "already-ready")
    return letters.download(api, document_id, headers)


# --- the approval decree, end to end ------------------------------------------------------------------------------


def test_approval_decree_shows_number_names_amounts_and_verifies(api, client, approved, cast):
    headers = approved.applicant["headers"]
    listed = letters.documents(api, approved.application_id, headers)
    # the group's statement of commitment comes with the submission, the agreement with the decree
    kinds = ["submission_receipt", "commitment_statement", "approval_decree", "cooperation_agreement"]
    assert [d["kind"] for d in listed] == kinds
    assert set(listed[0]) >= {"id", "kind", "number", "status", "sha256", "issued_at", "verification_code"}
    decree = listed[2]
    assert decree["status"] == "pending" and decree["sha256"] is None
    assert re.fullmatch(r"\d{3}/SK/1371/[IVX]+/\d{4}", decree["number"]), decree["number"]
    assert client.get(f"/api/v1/documents/{decree['id']}/pdf", headers=headers).status_code == 409

    content = ready_pdf(api, decree["id"], headers)
    text = letters.pdf_text(content)
    assert decree["number"] in text
    assert "MEMUTUSKAN" in text and "Menimbang" in text and "Mengingat" in text
    for dictum in ("KESATU", "KEDUA", "KETIGA", "KEEMPAT", "KELIMA"):
        assert dictum in text
    assert "Rp21.001.000 (dua puluh satu juta seribu rupiah)" in text
    assert "Terbilang: dua puluh satu juta seribu rupiah" in text
    assert "Rp15.000.000" in text and "Rp6.001.000" in text  # the annex, per component
    assert "Kelompok Usaha Jahit Maju Bersama" in text and "Siti Rahmawati" in text
    assert "Drs. Ahmad Fauzi, M.Si." in text and "NIP. 19700101 199503 1 001" in text
    assert "PEMERINTAH KOTA PADANG" in text and "DINAS TENAGA KERJA" in text
    snapshot = api.call(letters.snapshot, decree["id"])
    from tkm.documents.renderer import code_groups, tanggal

    assert f"Padang pada tanggal {tanggal(snapshot['document']['issued_on'])}" in text
    code = decree["verification_code"]
    assert code_groups(code) in text
    verify_url = f"http://127.0.0.1:8000/verify/{code}"
    assert verify_url in text.replace(" ", "")

    # PDF/A-3u with metadata and language.
    reader = letters.pdf_reader(content)
    assert reader.metadata.title == f"Keputusan Penetapan Penerima Bantuan {decree['number']}"
    assert reader.metadata.author == "Dinas Tenaga Kerja Kota Padang"
    assert "Kelompok Usaha Jahit Maju Bersama" in reader.metadata.subject
    assert reader.xmp_metadata is not None and 'pdfaid:part="3"' in reader.xmp_metadata.stream.get_data().decode()
    assert reader.trailer["/Root"]["/Lang"] == "id"

    # The QR code is drawn from exactly the verification URL.
    from tkm.documents.renderer import get_renderer

    html = get_renderer().html("approval_decree", snapshot)
    assert segno.make(verify_url, error="m").svg_inline(scale=1, border=0, omitsize=True) in html

    # The downloaded file is the stored one, and the public verification knows it.
    stored = client.get(f"/api/v1/documents/{decree['id']}", headers=headers).json()
    assert stored["status"] == "ready" and stored["sha256"] == hashlib.sha256(content).hexdigest()
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and decree["number"] in page.text and "Dinas Tenaga Kerja Kota Padang" in page.text
    info = client.get(f"/api/v1/verify/{code_groups(code).lower()}").json()
    assert info["number"] == decree["number"] and info["kind"] == "approval_decree"
    assert info["sha256"] == stored["sha256"] and info["office"] == "Dinas Tenaga Kerja Kota Padang"
    checked = client.post(f"/api/v1/verify/{code}", files={"file": ("sk.pdf", content, "application/pdf")}).json()
    assert checked["matches"] is True
    tampered = content.replace(b"21.001.000", b"91.001.000") + b"\n"
    checked = client.post(f"/api/v1/verify/{code}", files={"file": ("sk.pdf", tampered, "application/pdf")}).json()
    assert checked["matches"] is False
    assert client.get(f"/api/v1/verify/{code}", params={"sha256": stored["sha256"]}).json()["matches"] is True
    assert client.get(f"/api/v1/verify/{code}", params={"sha256": "abc"}).status_code == 422


def test_verify_page_checks_an_uploaded_file(api, client, approved):
    receipt = letters.document_of(api, approved.application_id, "submission_receipt", approved.applicant["headers"])
    content = ready_pdf(api, receipt["id"], approved.applicant["headers"])
    page = client.get(f"/verify/{receipt['verification_code']}")
    assert page.status_code == 200 and receipt["number"] in page.text
    assert "Periksa keaslian dokumen" in page.text and "Tanda terima permohonan" in page.text  # Indonesian first
    english = client.get(f"/verify/{receipt['verification_code']}", params={"lang": "en"})
    assert "Verify a document" in english.text and "Receipt of application" in english.text
    token = client.cookies.get("csrftoken")
    ok = client.post(
        f"/verify/{receipt['verification_code']}",
        files={"file": ("tanda-terima.pdf", content, "application/pdf")},
        data={"_csrf_token": token},
    )
    assert ok.status_code == 200 and 'role="status"' in ok.text and "tanda-terima.pdf" in ok.text
    bad = client.post(
        f"/verify/{receipt['verification_code']}",
        files={"file": ("palsu.pdf", content + b"%", "application/pdf")},
        data={"_csrf_token": token},
    )
    assert bad.status_code == 200 and 'role="alert"' in bad.text and 'role="status"' not in bad.text
    unknown = client.get("/verify/ZZZZ-ZZZZ-ZZZZ")
    assert unknown.status_code == 404 and 'role="alert"' in unknown.text
    assert client.get("/api/v1/verify/not-a-code").status_code == 404
    typed = client.get("/verify", params={"code": receipt["verification_code"].lower()}, follow_redirects=False)
    assert typed.status_code == 303 and typed.headers["location"] == f"/verify/{receipt['verification_code']}"


def test_submission_receipt_lists_what_was_received(api, approved):
    receipt = letters.document_of(api, approved.application_id, "submission_receipt", approved.applicant["headers"])
    text = letters.pdf_text(ready_pdf(api, receipt["id"], approved.applicant["headers"]))
    assert "TANDA TERIMA PERMOHONAN BANTUAN" in text and receipt["number"] in text
    assert "Proposal usaha" in text and "SK pembentukan kelompok" in text
    assert "Rp21.001.000 (dua puluh satu juta seribu rupiah)" in text
    assert re.search(r"\d{3}/TT/1371/", receipt["number"])


# --- revision and rejection --------------------------------------------------------------------------------------


def test_revision_request_and_rejection_carry_the_notes_and_reasons(api, cast, padang_office):
    grant = letters.make_grant(api, cast, group_name="Kelompok Sabun Sehat")
    grant.submit(api)
    grant.review(api)
    grant.perform(api, "request_revision", cast.reviewer, {"notes": "Lengkapi foto lokasi usaha & <RAB> rinci."})
    grant.perform(api, "resubmit", grant.applicant)
    grant.review(api)
    grant.perform(api, "not_recommend", cast.reviewer, {"reasons": "Pasar belum jelas."})
    grant.perform(api, "reject", cast.approver, {"reasons": "Anggaran melebihi kebutuhan usaha."})

    docs = letters.documents(api, grant.application_id, grant.applicant["headers"])
    kinds = ["submission_receipt", "commitment_statement", "revision_request", "rejection_letter"]
    assert [d["kind"] for d in docs] == kinds
    docs = [d for d in docs if d["kind"] != "commitment_statement"]
    revision = letters.pdf_text(ready_pdf(api, docs[1]["id"], grant.applicant["headers"]))
    assert "Permintaan Perbaikan Proposal" in revision and docs[1]["number"] in revision
    assert "Lengkapi foto lokasi usaha & <RAB> rinci." in revision
    assert "Yth. Ketua Kelompok Sabun Sehat" in revision
    rejection = letters.pdf_text(ready_pdf(api, docs[2]["id"], grant.applicant["headers"]))
    assert "Anggaran melebihi kebutuhan usaha." in rejection and "Pasar belum jelas." in rejection
    assert "belum dapat disetujui" in rejection and docs[2]["number"] in rejection


# --- escaping and the locked fetcher on real letters --------------------------------------------------------------


def test_markup_in_a_group_name_is_printed_literally(api, cast, padang_office):
    name = '<img src="file:///etc/passwd"> & <b>Maju</b>'
    grant = letters.make_grant(api, cast, group_name=name)
    grant.to_recommended(api)
    grant.approve(api)
    for kind in ("submission_receipt", "approval_decree"):
        document = letters.document_of(api, grant.application_id, kind, grant.applicant["headers"])
        content = ready_pdf(api, document["id"], grant.applicant["headers"])
        text = letters.pdf_text(content)
        assert name in text, kind
        assert "root:x:0:0" not in text and b"root:x:0:0" not in content
        assert not letters.pdf_reader(content).attachments


# --- issuing: dedupe, rollback, frozen snapshots ------------------------------------------------------------------


def test_an_effect_that_runs_twice_issues_once(api, approved, cast):
    from tkm.core import db
    from tkm.documents import hooks
    from tkm.workflow import loader
    from tkm.workflow.engine import TransitionContext

    first = letters.document_of(api, approved.application_id, "approval_decree", approved.applicant["headers"])
    event_id = api.call(letters.snapshot, first["id"])["event"]["id"]

    async def run_effect_again():
        from tkm.applications.tables import Application

        row = await Application.select().where(Application.id == approved.application_id).first()
        workflow = loader.get("tkm-pemula")
        ctx = TransitionContext(
            row, workflow, workflow.actions["approve"], letters.actor(cast.approver, ["13"]), {}, "recommended",
            "approved", row["updated_at"], event_id,
        )  # fmt: skip
        async with db.transaction():
            await hooks.issue_letter(ctx, kind="approval_decree")
            await hooks.issue_letter(ctx, kind="approval_decree")
        return ctx.results["documents"]["approval_decree"]

    assert api.call(run_effect_again) == first["id"]
    kinds = [d["kind"] for d in letters.documents(api, approved.application_id, approved.applicant["headers"])]
    assert kinds.count("approval_decree") == 1


def test_a_rolled_back_issue_gives_its_number_back(api, approved):
    from tkm.core import db
    from tkm.documents import services
    from tkm.documents.tables import Document

    class Abort(Exception):
        pass

    async def issue(key, fail):
        async with db.transaction():
            document_id = await services.issue("funds_trail", application_id=approved.application_id, context_key=key,
                                               data={"entries": [], "totals": {}})  # fmt: skip
            if fail:
                raise Abort
            return document_id

    async def seqs():
        rows = await Document.select(Document.seq).where(Document.kind == "funds_trail").order_by(Document.seq)
        return [r["seq"] for r in rows]

    before = api.call(seqs)
    with pytest.raises(Abort):
        api.call(issue, "rollback-1", True)
    assert api.call(seqs) == before
    kept = api.call(issue, "rollback-2", False)
    after = api.call(seqs)
    assert after == [*before, (before[-1] if before else 0) + 1]
    assert api.call(letters.document_row, kept)["seq"] == after[-1]


def test_issuing_outside_a_transaction_is_refused(api, approved):
    from tkm.documents import services

    with pytest.raises(RuntimeError, match="transaction"):
        api.call(services.issue, "approval_decree", application_id=approved.application_id, context_key="x")


def test_office_changes_reach_new_letters_but_not_issued_ones(api, client, cast, padang_office):
    grant = letters.make_grant(api, cast, group_name="Kelompok Rendang Minang")
    grant.submit(api)
    old = letters.document_of(api, grant.application_id, "submission_receipt", grant.applicant["headers"])
    changed = client.patch(
        "/api/v1/offices/1371",
        json={"signatory_name": "Hj. Rosmawati, S.H.", "numbering_pattern": "{kind_code}-{seq:05d}/{office}/{year}"},
        headers={**cast.admin["headers"], "If-Match": f'"{padang_office["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    try:
        grant.review(api)
        grant.perform(api, "request_revision", cast.reviewer, {"notes": "Perbaiki RAB."})
        new = letters.document_of(api, grant.application_id, "revision_request", grant.applicant["headers"])
        assert re.fullmatch(r"PRB-\d{5}/1371/\d{4}", new["number"]), new["number"]
        assert "Hj. Rosmawati, S.H." in letters.pdf_text(ready_pdf(api, new["id"], grant.applicant["headers"]))
        old_text = letters.pdf_text(ready_pdf(api, old["id"], grant.applicant["headers"]))
        assert "Drs. Ahmad Fauzi, M.Si." in old_text and "Hj. Rosmawati" not in old_text
    finally:
        version = client.get("/api/v1/offices/1371", headers=cast.admin["headers"]).json()["version"]
        restored = client.patch(
            "/api/v1/offices/1371",
            json={
                "signatory_name": padang_office["signatory_name"],
                "numbering_pattern": padang_office["numbering_pattern"],
            },
            headers={**cast.admin["headers"], "If-Match": f'"{version}"'},
        )
        assert restored.status_code == 200


# --- rendering: twice, failure, the sweeper ----------------------------------------------------------------------


def test_rendering_twice_keeps_one_file_and_one_number(api, approved, settings):
    receipt = letters.document_of(api, approved.application_id, "submission_receipt", approved.applicant["headers"])
    from tkm.documents import services

    letters.render(api, receipt["id"])
    first = api.call(letters.document_row, receipt["id"])
    assert api.call(services.render, receipt["id"]) == "already-ready"
    second = api.call(letters.document_row, receipt["id"])
    assert (second["number"], second["seq"], second["sha256"]) == (first["number"], first["seq"], first["sha256"])
    folder = settings.data_dir / "documents" / str(first["year"])
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(f"{receipt['id']}.")) == [
        f"{receipt['id']}.pdf"
    ]
    assert not list(folder.glob(f".{receipt['id']}.pdf.*"))


def test_a_failing_render_is_marked_failed_and_succeeds_once_fixed(api, approved):
    import json

    from tkm.core import db
    from tkm.documents import services
    from tkm.documents.tables import Document

    async def issue():
        async with db.transaction():
            return await services.issue("funds_trail", application_id=approved.application_id, context_key="broken",
                                        data={"entries": [], "totals": {}})  # fmt: skip

    document_id = api.call(issue)
    good = api.call(letters.snapshot, document_id)
    broken = {k: v for k, v in good.items() if k != "group"}

    async def set_context(value):
        await Document.update({Document.context: json.dumps(value)}).where(Document.id == document_id)

    api.call(set_context, broken)
    with pytest.raises(Exception, match="group"):
        api.call(services.render, document_id)
    row = api.call(letters.document_row, document_id)
    assert row["status"] == "failed" and "group" in row["error"] and row["attempts"] == 1
    api.call(set_context, good)
    assert api.call(services.render, document_id) == "rendered"
    row = api.call(letters.document_row, document_id)
    assert row["status"] == "ready" and row["error"] == "" and row["attempts"] == 2 and len(row["sha256"]) == 64


def test_the_sweeper_resends_documents_stuck_in_pending(api, approved):
    from tkm.core import db
    from tkm.core.tables import OutboxMessage
    from tkm.documents import services

    async def issue():
        async with db.transaction():
            return await services.issue("funds_trail", application_id=approved.application_id, context_key="stuck",
                                        data={"entries": [], "totals": {}})  # fmt: skip

    document_id = api.call(issue)

    async def sends():
        rows = await OutboxMessage.select(OutboxMessage.payload).where(OutboxMessage.task == services.RENDER_TASK)
        return sum(1 for r in rows if f'"document_id": {document_id}' in str(r["payload"]))

    assert api.call(sends) == 1
    api.call(services.resend_stuck)  # five minutes by default: this one is too young to be stuck
    assert api.call(sends) == 1
    assert api.call(services.resend_stuck, 0) >= 1
    assert api.call(sends) == 2
    assert letters.render(api, document_id) == "rendered"
    api.call(services.resend_stuck, 0)  # a ready document is never sent again
    assert api.call(sends) == 2


# --- access ------------------------------------------------------------------------------------------------------


def test_documents_follow_the_application_access_rules(api, client, approved, cast):
    decree = letters.document_of(api, approved.application_id, "approval_decree", approved.applicant["headers"])
    letters.render(api, decree["id"])
    stranger = api.make_user("applicant")
    far_reviewer = api.make_user("reviewer", ["31"])
    auditor = api.make_user("auditor")
    for who in (stranger, far_reviewer):
        assert client.get(f"/api/v1/documents/{decree['id']}/pdf", headers=who["headers"]).status_code == 404
        assert client.get(f"/api/v1/documents/{decree['id']}", headers=who["headers"]).status_code == 404
        listed = client.get(f"/api/v1/applications/{approved.application_id}/documents", headers=who["headers"])
        assert listed.status_code == 404
    for who in (cast.reviewer, cast.finance, auditor):
        assert client.get(f"/api/v1/documents/{decree['id']}/pdf", headers=who["headers"]).status_code == 200
    assert client.get(f"/api/v1/documents/{decree['id']}/pdf").status_code == 401
    assert client.get("/api/v1/documents/999999/pdf", headers=auditor["headers"]).status_code == 404


# --- offices -----------------------------------------------------------------------------------------------------


def test_office_settings_are_checked_and_only_admins_change_them(api, client, cast, padang_office):
    listed = client.get("/api/v1/offices", headers=cast.reviewer["headers"]).json()
    assert {o["code"] for o in listed} >= {"PUSAT", "1371"}
    assert next(o for o in listed if o["code"] == "PUSAT")["is_default"] is True
    body = {
        "code": "1372",
        "name": "Dinas Tenaga Kerja Kota Solok",
        "region": "13.72",
        "letterhead": ["Pemerintah Kota Solok", "Dinas Tenaga Kerja"],
        "address": "Solok",
        "city": "Solok",
        "signatory_name": "A",
        "signatory_title": "Kepala Dinas",
    }
    assert client.post("/api/v1/offices", json=body, headers=cast.reviewer["headers"]).status_code == 403
    bad = client.post(
        "/api/v1/offices",
        json={**body, "numbering_pattern": "{seq}/{office.__class__}", "kind_codes": {"approval_decree": "TT"}},
        headers=cast.admin["headers"],
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"numbering_pattern", "kind_codes"} <= fields
    missing = client.post(
        "/api/v1/offices", json={**body, "numbering_pattern": "{seq:03d}/{year}"}, headers=cast.admin["headers"]
    )
    assert missing.status_code == 422 and "kind_code" in missing.text
    taken = client.post(
        "/api/v1/offices", json={**body, "code": "X1", "region": "13.71"}, headers=cast.admin["headers"]
    )
    assert taken.status_code == 409
    stale = client.patch(
        "/api/v1/offices/1371", json={"city": "Padang"}, headers={**cast.admin["headers"], "If-Match": '"999"'}
    )
    assert stale.status_code == 412
    undefault = client.patch("/api/v1/offices/PUSAT", json={"is_default": False}, headers=cast.admin["headers"])
    assert undefault.status_code == 409


def test_the_most_specific_office_issues_and_the_default_covers_the_rest(api, cast, padang_office):
    from tkm.documents import offices

    assert api.call(offices.office_for, "13.71.01")["code"] == "1371"
    assert api.call(offices.office_for, "13.71")["code"] == "1371"
    assert api.call(offices.office_for, "13.72")["code"] == "PUSAT"
    assert api.call(offices.office_for, "")["code"] == "PUSAT"


# --- the programme summary ---------------------------------------------------------------------------------------


def test_programme_report_is_made_in_the_background_for_finance_and_auditors(api, client, approved, cast):
    body = {"programme": cast.programme["code"], "region": "13.71"}
    response = client.post("/api/v1/programme-reports", json=body, headers=cast.finance["headers"])
    assert response.status_code == 202, response.text
    document = response.json()
    assert document["kind"] == "programme_summary" and document["status"] == "pending"
    assert re.fullmatch(r"\d{3}/REKAP/1371/[IVX]+/\d{4}", document["number"])

    far_finance = api.make_user("finance", ["31"])
    assert client.post("/api/v1/programme-reports", json=body, headers=far_finance["headers"]).status_code == 403
    assert client.post("/api/v1/programme-reports", json=body, headers=cast.reviewer["headers"]).status_code == 403
    assert (
        client.post("/api/v1/programme-reports", json={**body, "programme": "NOPE"}, headers=cast.finance["headers"])
    ).status_code == 422
    auditor = api.make_user("auditor")
    whole = client.post(
        "/api/v1/programme-reports", json={"programme": cast.programme["code"]}, headers=auditor["headers"]
    )
    assert whole.status_code == 202 and whole.json()["office"] == "PUSAT"

    snapshot = api.call(letters.snapshot, document["id"])
    totals = snapshot["figures"]["totals"]
    approved_in_padang = api.call(_approved_total, cast.programme["id"], "13.71")
    assert totals["approved"] == approved_in_padang >= sum(APPROVED.values())
    assert [r["code"] for r in snapshot["figures"]["regions"]] == ["13.71"]

    content = ready_pdf(api, document["id"], cast.finance["headers"])
    text = letters.pdf_text(content)
    assert document["number"] in text and "Kota Padang" in text
    from tkm.core.money import rupiah

    assert rupiah(approved_in_padang) in text
    assert "<svg" not in text and letters.pdf_reader(content).metadata.title.startswith("Rekapitulasi Program")
    assert client.get(f"/api/v1/documents/{document['id']}/pdf", headers=far_finance["headers"]).status_code == 404
    assert (
        client.get(f"/api/v1/documents/{document['id']}/pdf", headers=approved.applicant["headers"]).status_code == 404
    )


async def _approved_total(programme_id, region):
    from tkm.applications.tables import Application

    rows = await Application.select(Application.approved_total).where(
        Application.programme == programme_id, Application.region == region, Application.approved_at.is_not_null()
    )
    return sum(r["approved_total"] for r in rows)


# --- payment order, handover record and funds trail (issued by other modules through the services) ---------------


def test_payment_order_handover_record_and_funds_trail_from_passed_in_data(api, approved):
    from tkm.core import db
    from tkm.documents import services

    app_id = approved.application_id
    tranche = {"id": 41, "application_id": app_id, "component": "capital", "seq": 1, "amount": 15_000_000}
    paid = {**tranche, "paid_at": "2020-03-24T10:00:00+07:00", "transfer_reference": "TRF-2020-0001"}
    trail = {
        "entries": [
            {"at": "2020-03-20T09:00:00+07:00", "kind": "commitment", "component": "capital", "amount": 15_000_000,
             "reference": "SK", "actor": "Approver", "balance_after": 15_000_000},
            {"at": "2020-03-24T18:30:00+00:00", "kind": "disbursement", "component": "capital", "amount": 15_000_000,
             "reference": "TRF-2020-0001", "actor": "Finance", "balance_after": 0},
        ],
        "totals": {"approved": 21_001_000, "disbursed": 15_000_000, "spent": 0, "revenue": 0, "reinvested": 0,
                   "unspent": 15_000_000, "grant_spent": 0, "grant_unspent": 15_000_000, "own_spent": 0,
                   "own_balance": 0, "returned": 0},
    }  # fmt: skip

    async def issue_all():
        async with db.transaction():
            spm = await services.issue_payment_order(tranche)
            again = await services.issue_payment_order(tranche)
            bast = await services.issue_handover_record(paid)
            funds = await services.issue_funds_trail(app_id, trail)
            same = await services.issue_funds_trail(app_id, trail)
        return spm, again, bast, funds, same

    spm, again, bast, funds, same = api.call(issue_all)
    assert spm == again and funds == same
    headers = approved.applicant["headers"]
    decree = letters.document_of(api, app_id, "approval_decree", headers)

    spm_text = letters.pdf_text(ready_pdf(api, spm, headers))
    assert "SURAT PERINTAH MEMBAYAR (SPM)" in spm_text
    assert "Rp15.000.000 (lima belas juta rupiah)" in spm_text and decree["number"] in spm_text
    assert "Yulia Sari, S.E." in spm_text and "Pejabat Pembuat Komitmen" in spm_text  # the SPM's own signatory

    bast_text = letters.pdf_text(ready_pdf(api, bast, headers))
    assert "PIHAK PERTAMA" in bast_text and "PIHAK KEDUA" in bast_text
    assert "Selasa tanggal dua puluh empat bulan Maret tahun dua ribu dua puluh" in bast_text
    assert "TRF-2020-0001" in bast_text and "Terbilang: lima belas juta rupiah" in bast_text
    assert "Drs. Ahmad Fauzi, M.Si." in bast_text and "Siti Rahmawati" in bast_text

    trail_text = letters.pdf_text(ready_pdf(api, funds, headers))
    assert "LAPORAN JEJAK DANA BANTUAN" in trail_text and "Penyaluran" in trail_text
    assert "Komitmen anggaran" in trail_text and "Rp21.001.000" in trail_text
    assert "Sisa dana bantuan" in trail_text and "Saldo dana sendiri" in trail_text  # the two pools apart
    assert "20 Maret 2020" in trail_text and "25 Maret 2020" in trail_text  # 18:30 UTC is 01:30 WIB the next day
    assert "Riwayat persetujuan" in trail_text.replace("RIWAYAT PERSETUJUAN", "Riwayat persetujuan")
    assert "Setujui" in trail_text and "Disetujui sesuai rekomendasi tim verifikasi." in trail_text


def test_payment_letters_of_before_the_tranche_column_are_found_and_voided(api, approved):
    """The migration that added ``documents.tranche`` fills it from the subject key of older payment letters."""
    import importlib

    from tkm.core import db
    from tkm.core.migration_sql import raw
    from tkm.documents import services
    from tkm.documents.tables import Document

    backfill = importlib.import_module("tkm.migrations.tkm_2026_12_01t16_58_25_000000")
    tranche = {"id": 4077, "application_id": approved.application_id, "component": "capital", "seq": 2, "amount": 1}
    paid = {**tranche, "paid_at": "2020-03-24T10:00:00+07:00", "transfer_reference": "TRF-4077"}

    async def run():
        async with db.transaction():
            ids = [
                await services.issue_payment_order(tranche),
                await services.issue_payment_order(tranche, key="v3"),
                await services.issue_handover_record(paid, key="v4"),
            ]
            await Document.update({Document.tranche: None}).where(Document.id.is_in(ids))
        await raw(sqlite=backfill.SQLITE, postgres=backfill.POSTGRES)()
        rows = await Document.select(Document.tranche).where(Document.id.is_in(ids))
        async with db.transaction():
            voided = await services.void_tranche_letters(4077, "Rekening ditutup")
        return ids, [r["tranche"] for r in rows], voided

    ids, tranches, voided = api.call(run)
    assert tranches == [4077, 4077, 4077]
    assert voided == sorted(ids)


def test_a_render_that_never_finishes_is_given_up_after_the_last_attempt(api, approved):
    from tkm.core import db
    from tkm.documents import services
    from tkm.documents.tables import Document

    async def issue_crashed():
        async with db.transaction():
            document_id = await services.issue("funds_trail", application_id=approved.application_id,
                                               context_key="crashes", data={"entries": [], "totals": {}})  # fmt: skip
        # As if every worker that took it died mid-render.
        await Document.update({Document.attempts: services.MAX_RENDER_ATTEMPTS}).where(Document.id == document_id)
        return document_id

    document_id = api.call(issue_crashed)
    api.call(services.resend_stuck, 0)
    row = api.call(letters.document_row, document_id)
    assert row["status"] == "failed" and str(services.MAX_RENDER_ATTEMPTS) in row["error"]
