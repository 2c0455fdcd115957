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
        if d["rendering"] == "pending":
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
    # Auditors are read-only (API.md, Roles): they take no number from the register.
    refused = world.client.get(url, params={"format": "pdf"}, headers=world.auditor_headers, follow_redirects=False)
    assert refused.status_code == 403
    r = world.client.get(url, params={"format": "pdf"}, headers=world.finance["headers"], follow_redirects=False)
    assert r.status_code == 202 and r.headers["location"] == f"/api/v1/documents/{r.json()['id']}/pdf"
    assert r.json()["kind"] == "funds_trail" and r.json()["status"] == "pending"
    render_all(world, app["id"])
    again = world.client.get(url, params={"format": "pdf"}, headers=world.finance["headers"], follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    # The letter once issued is theirs to read like any other.
    assert world.client.get(r.headers["location"], headers=world.auditor_headers).status_code == 200
    totals = world.get(url, world.finance).json()["totals"]
    text = text_of(world, r.json()["id"], world.finance)
    assert rupiah(totals["disbursed"]) in text and "Kelompok Jejak Dana" in text


@pytest.fixture(scope="module", autouse=True)
def auditor(world):
    world.auditor_headers = world.api.make_user("auditor")["headers"]


# --- letters that lose their ground: a payment the bank refused voids its SPM and BAST -------------------------


def capital_tranche(world, app_id, seq=1):
    return next(
        t
        for t in world.get(f"/api/v1/applications/{app_id}/tranches", world.finance).json()
        if t["component"] == "capital" and t["seq"] == seq
    )


def act(world, tranche_id, action, user, body=None):
    r = world.post(f"/api/v1/tranches/{tranche_id}/actions/{action}", user, body or {})
    assert r.status_code == 200, r.text
    return r.json()


def register(world, kind, office, year):
    """The register of one office, letter kind and year: (seq, number) of every document, void or not."""
    from tkm.documents.tables import Document

    async def read():
        return (
            await Document.select(Document.seq, Document.number)
            .where(Document.kind == kind, Document.office == office, Document.year == year)
            .order_by(Document.seq)
        )

    return [(r["seq"], r["number"]) for r in world.api.call(read)]


def stored_file(world, document_id):
    from tkm.core.settings import get_settings
    from tkm.documents.tables import Document

    async def read():
        return await Document.select(Document.file_path).where(Document.id == document_id).first()

    return get_settings().data_dir / world.api.call(read)["file_path"]


def test_a_refused_payment_voids_its_spm_and_bast_and_the_next_ones_replace_them(world, client):
    reason = "Rekening tidak aktif (kode bank R03)"
    app = world.to_state(world.new_application(group=world.make_group(world.applicant))["id"], "active")
    tranche = world.pay(capital_tranche(world, app["id"]))
    render_all(world, app["id"])
    (spm,) = documents(world, app["id"], "payment_order")
    (bast,) = documents(world, app["id"], "handover_record")
    assert spm["status"] == bast["status"] == "ready"
    assert spm["void_reason"] is None and spm["replaced_by"] is None and spm["voided_at"] is None
    spm_pdf = world.get(f"/api/v1/documents/{spm['id']}/pdf", world.finance).content

    failed = act(world, tranche["id"], "fail", world.finance, {"reason": reason})
    assert failed["status"] == "failed"
    after = {d["id"]: d for d in documents(world, app["id"])}
    for letter in (spm, bast):
        void = after[letter["id"]]
        assert void["status"] == "void" and void["rendering"] == "ready"
        assert void["void_reason"] == reason and void["voided_at"] and void["replaced_by"] is None
        assert void["number"] == letter["number"] and void["sha256"] == letter["sha256"]
        assert stored_file(world, letter["id"]).is_file()
        assert world.get(f"/api/v1/documents/{letter['id']}", world.applicant).json()["status"] == "void"
    assert all(d["status"] != "void" for d in after.values() if d["id"] not in (spm["id"], bast["id"]))
    # Still downloadable, byte for byte the letter that was issued.
    again = world.get(f"/api/v1/documents/{spm['id']}/pdf", world.finance)
    assert again.status_code == 200 and again.content == spm_pdf

    # The public check says void, by code and by file; the file still matches its fingerprint.
    code = spm["verification_code"]
    info = client.get(f"/api/v1/verify/{code}").json()
    assert info["status"] == "void" and info["void_reason"] == reason and info["replacement"] is None
    checked = client.post(f"/api/v1/verify/{code}", files={"file": ("spm.pdf", spm_pdf, "application/pdf")}).json()
    assert checked["status"] == "void" and checked["matches"] is True and checked["void_reason"] == reason
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and 'class="void-stamp"' in page.text and reason in page.text

    # Ordered and paid again (the same transfer reference): a new SPM and BAST, which replace the void ones.
    world.pay(failed)
    render_all(world, app["id"])
    spms = documents(world, app["id"], "payment_order")
    basts = documents(world, app["id"], "handover_record")
    assert [d["status"] for d in spms] == ["void", "ready"] and [d["status"] for d in basts] == ["void", "ready"]
    assert spms[0]["replaced_by"] == spms[1]["id"] and basts[0]["replaced_by"] == basts[1]["id"]
    assert spms[1]["void_reason"] is None and spms[1]["replaced_by"] is None
    assert spms[0]["number"] != spms[1]["number"] and basts[0]["number"] != basts[1]["number"]
    info = client.get(f"/api/v1/verify/{code}").json()
    assert info["status"] == "void" and info["replaced_by"] == spms[1]["id"]
    assert info["replacement"]["number"] == spms[1]["number"]
    page = client.get(f"/verify/{code}")
    assert spms[1]["number"] in page.text and f'href="/verify/{info["replacement"]["verification_code"]}"' in page.text
    assert client.get(f"/api/v1/verify/{spms[1]['verification_code']}").json()["status"] == "ready"

    # The register keeps every number: the void ones are neither removed nor given again.
    for kind, issued in (("payment_order", spms), ("handover_record", basts)):
        numbers = register(world, kind, issued[0]["office"], int(issued[0]["issued_at"][:4]))
        assert [seq for seq, _number in numbers] == list(range(1, len(numbers) + 1))
        assert {d["number"] for d in issued} <= {number for _seq, number in numbers}

    # The database keeps a void letter as it is: not deleted, not made valid again, its number unchanged.
    from tkm.documents import services
    from tkm.documents.tables import Document

    for change in (
        Document.delete().where(Document.id == spm["id"]),
        Document.update({Document.voided_at: None}).where(Document.id == spm["id"]),
        Document.update({Document.number: "999/SPM/LAIN"}).where(Document.id == spm["id"]),
    ):
        with pytest.raises(Exception, match="void document"):
            world.api.call(lambda query=change: query.run())
    assert documents(world, app["id"], "payment_order")[0] == spms[0]

    # tkm verify's check of void letters holds, and names a letter that claims a replacement while valid.
    assert world.api.call(services.verify_void) is None

    async def replaced_by(document_id, other):
        await Document.update({Document.replaced_by: other}).where(Document.id == document_id)

    world.api.call(replaced_by, spms[1]["id"], spms[0]["id"])
    try:
        broken = world.api.call(services.verify_void)
    finally:
        world.api.call(replaced_by, spms[1]["id"], None)
    assert broken is not None and spms[1]["number"] in str(broken)
    assert world.api.call(services.verify_void) is None


def test_a_refused_payment_that_was_only_authorized_voids_just_its_spm(world):
    app = world.to_state(world.new_application(group=world.make_group(world.applicant))["id"], "active")
    tranche = capital_tranche(world, app["id"])
    act(world, tranche["id"], "request", world.finance)
    act(world, tranche["id"], "authorize", world.finance2)
    act(world, tranche["id"], "fail", world.finance, {"reason": "Nama pemilik rekening tidak cocok"})
    letters = documents(world, app["id"])
    (spm,) = [d for d in letters if d["kind"] == "payment_order"]
    assert spm["status"] == "void" and spm["void_reason"] == "Nama pemilik rekening tidak cocok"
    assert not [d for d in letters if d["kind"] == "handover_record"]
    assert [d["id"] for d in letters if d["status"] == "void"] == [spm["id"]]
    # Voided before its PDF was made: it is still rendered, and then downloadable (and still void).
    assert spm["rendering"] == "pending"
    render_all(world, app["id"])
    assert world.get(f"/api/v1/documents/{spm['id']}/pdf", world.finance).status_code == 200
    assert documents(world, app["id"], "payment_order")[0]["status"] == "void"


def test_funds_trail_pdf_speaks_in_words_and_keeps_the_balance_whole(world, tmp_path):
    from tkm.testing.time_travel import approve_in_the_past, period

    group = world.make_group(world.applicant, name="Kelompok Jejak Kata")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], 1)
    world.pay_all(app["id"])
    grant_line = {"category": "raw_materials", "amount": 1_000_000, "source": "grant", "component": "capital"}
    world.accepted_report(app["id"], period=period(1), expenses=[grant_line])
    url = f"/api/v1/applications/{app['id']}/funds-trail"
    r = world.client.get(url, params={"format": "pdf"}, headers=world.finance["headers"], follow_redirects=False)
    render_all(world, app["id"])
    entries = world.get(url, world.finance).json()["entries"]
    pdf = world.get(f"/api/v1/documents/{r.json()['id']}/pdf", world.finance).content
    (tmp_path / "funds-trail.pdf").write_bytes(pdf)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    printed = world.api.call(letters.snapshot, r.json()["id"])["entries"]
    kinds, components = {e["kind_label"] for e in printed}, {e["label"] for e in printed}
    assert {"Penyaluran ke kelompok", "Belanja (laporan)", "Komitmen anggaran"} <= kinds
    assert {"Modal usaha"} <= components  # grant spending reads by its RAB component
    assert "Modal usaha" in text and "Penyaluran" in text
    for code in ("payment", "report_expense", "raw_materials", "capital", "commit"):
        assert code not in text and code not in kinds | components
    lines = text.splitlines()
    # Every balance is printed whole, on one line (a column too narrow would break "Rp1.234.567").
    for entry in entries:
        assert any(rupiah(entry["balance_after"]) in line for line in lines), entry
