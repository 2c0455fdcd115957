"""Every letter is signed (PAdES B-B with pyHanko) by its office and verifiable offline.

Runs on SQLite and PostgreSQL with real WeasyPrint, rendering in the app's event loop as the worker's task does.
The default office (PUSAT) signs with its development certificate until an admin loads its own PKCS#12 (the
last tests of the module).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest

from tests.support import letters
from tkm.testing.certificates import expired_p12, make_p12

OFFICE = "PUSAT"
OFFICE_NAME = "Kementerian Ketenagakerjaan Republik Indonesia"


@pytest.fixture(scope="module")
def cast(settings, module_client):
    from tests.support.api import Api

    return letters.make_cast(Api(module_client))


@pytest.fixture(scope="module")
def decree(settings, module_client, cast):
    """An approved application's decree, rendered and signed: (document, pdf bytes)."""
    from tests.support.api import Api

    api = Api(module_client)
    grant = letters.make_grant(api, cast, region="13.06")
    grant.to_recommended(api)
    grant.approve(api)
    headers = grant.applicant["headers"]
    document = letters.document_of(api, grant.application_id, "approval_decree", headers)
    assert letters.render(api, document["id"]) == "rendered"
    content = letters.download(api, document["id"], headers)
    return letters.document_of(api, grant.application_id, "approval_decree", headers), content


def office_roots(settings):
    from tkm.documents import signing

    return [signing._to_asn1(c) for c in signing.trusted_certificates(settings, OFFICE)]


def validate(content: bytes, roots):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(content), strict=False)
    assert len(reader.embedded_signatures) == 1
    sig = reader.embedded_signatures[0]
    return sig, validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))


def flip_inside_a_stream(content: bytes) -> bytes:
    """One byte changed inside the first content stream after the first tenth of the file (the signed range)."""
    at = content.index(b"stream\n", len(content) // 10) + len(b"stream\n") + 40
    changed = bytearray(content)
    changed[at] ^= 0x01
    return bytes(changed)


def post_verify(client, code: str, content: bytes | None = None, name: str = "letter.pdf"):
    files = {"file": (name, content, "application/pdf")} if content is not None else None
    return client.post(f"/api/v1/verify/{code}", files=files)


# --- signed in the render ----------------------------------------------------------------------------------------


def test_a_signed_letter_validates_with_pyhanko_against_its_office(settings, client, decree, cast):
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    document, content = decree
    # The stored fingerprint is the signed file's.
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    # Signed as an incremental update after WeasyPrint's PDF/A output: the PDF/A revision is still there.
    assert content.count(b"%%EOF") >= 2
    root = letters.pdf_reader(content).trailer["/Root"]
    assert b"pdfaid:part" in root["/Metadata"].get_object().get_data() and "/OutputIntents" in root
    roots = office_roots(settings)
    shown = client.get(f"/api/v1/offices/{OFFICE}/certificate", headers=cast.admin["headers"])
    assert shown.status_code == 200, shown.text
    assert shown.json()["certificate"]["development"] is True
    assert [shown.json()["certificate"]["sha256"]] == [hashlib.sha256(r.dump()).hexdigest() for r in roots]
    sig, status = validate(content, roots)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert sig.signer_cert.subject.native["common_name"] == OFFICE_NAME
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES


def test_a_development_signature_says_so_on_the_letter(decree):
    _document, content = decree
    text = letters.pdf_text(content)
    assert "sertifikat pengembangan" in text and "tidak sah untuk keperluan dinas" in text


def test_one_changed_byte_breaks_the_signature_and_the_fingerprint(settings, client, decree):
    document, content = decree
    changed = flip_inside_a_stream(content)
    _sig, status = validate(changed, office_roots(settings))
    assert not status.intact
    response = post_verify(client, document["verification_code"], changed)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["matches"] is False
    assert body["signature"]["valid"] is False


def test_another_certificate_is_not_the_office(settings, decree):
    _document, content = decree
    from tkm.documents import signing

    other = signing.open_p12(make_p12("Someone Else", "pw"), "pw").cert
    _sig, status = validate(content, [signing._to_asn1(other)])
    assert status.intact and not status.trusted


# --- verifying ---------------------------------------------------------------------------------------------------


def test_post_verify_without_a_file_checks_the_stored_one(client, decree):
    document, _content = decree
    response = post_verify(client, document["verification_code"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "approval_decree" and body["number"] == document["number"]
    assert body["issued_at"] == document["issued_at"] and body["status"] == "ready"
    assert body["sha256"] == document["sha256"] and body["matches"] is True
    assert body["signature"]["valid"] is True
    assert body["signature"]["signer"] == OFFICE_NAME
    signed_at = dt.datetime.fromisoformat(body["signature"]["signed_at"])
    assert abs(signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)


def test_post_verify_with_the_original_file(client, decree):
    document, content = decree
    # The code as printed (groups of four, lower case) works as well.
    printed = "-".join(document["verification_code"][i : i + 4] for i in range(0, 12, 4)).lower()
    response = post_verify(client, printed, content)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["matches"] is True and body["checked_sha256"] == document["sha256"]
    assert body["signature"] == {
        "valid": True,
        "signer": OFFICE_NAME,
        "signed_at": body["signature"]["signed_at"],
        "development": True,
    }


def test_a_file_with_something_appended_is_not_valid(client, decree):
    document, content = decree
    body = post_verify(client, document["verification_code"], content + b"\n% added later\n").json()
    assert body["matches"] is False and body["signature"]["valid"] is False


def test_an_unsigned_pdf_is_not_valid(client, decree, settings):
    from tkm.documents import renderer, services

    document, _content = decree
    unsigned = renderer.get_renderer().pdf("<html lang='id'><title>x</title><p>Bukan surat</p></html>")
    body = post_verify(client, document["verification_code"], unsigned).json()
    assert body["matches"] is False
    assert body["signature"] == {"valid": False, "signer": None, "signed_at": None, "development": False}
    assert services.PDF_MAGIC in unsigned[:8]


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [
        (b"GIF89a not a pdf at all", 415, "file"),
        (b"", 422, "file"),
    ],
)
def test_bad_files_are_refused_with_the_field(client, decree, content, status, field):
    document, _ = decree
    response = post_verify(client, document["verification_code"], content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_file_over_the_limit_is_413(client, decree, settings):
    document, _ = decree
    big = b"%PDF-1.7\n" + b"0" * (settings.max_upload_bytes + 10)
    response = post_verify(client, document["verification_code"], big)
    assert response.status_code == 413, response.text


def test_an_unknown_code_is_404(client):
    assert post_verify(client, "ZZZZ-ZZZZ-ZZZZ").status_code == 404
    assert post_verify(client, "not a code", b"%PDF-1.7 x").status_code == 404
    assert client.get("/verify/ZZZZ-ZZZZ-ZZZZ").status_code == 404


def test_the_public_page_shows_the_signature(client, decree):
    document, content = decree
    page = client.get(f"/verify/{document['verification_code']}")
    assert page.status_code == 200
    assert "Tanda tangan elektronik sah" in page.text and OFFICE_NAME in page.text
    assert "Sertifikat pengembangan" in page.text
    client.get("/verify")  # the CSRF cookie
    token = client.cookies.get("csrftoken")
    changed = client.post(
        f"/verify/{document['verification_code']}",
        files={"file": ("surat.pdf", flip_inside_a_stream(content), "application/pdf")},
        data={"_csrf_token": token},
    )
    assert changed.status_code == 200, changed.text
    assert "Tanda tangan elektronik tidak sah" in changed.text


# --- an office's own certificate (these run last: afterwards PUSAT signs with it) ------------------------------


def put_certificate(client, headers, content: bytes, password: str):
    return client.put(
        f"/api/v1/offices/{OFFICE}/certificate",
        files={"file": ("kantor.p12", content, "application/x-pkcs12")},
        data={"password": password},
        headers=headers,
    )


def office_folder(settings):
    return settings.data_dir / "signing" / "offices" / OFFICE


def test_wrong_password_is_422_naming_password_and_nothing_is_kept(settings, client, cast):
    response = put_certificate(client, cast.admin["headers"], make_p12("Kepala Dinas Uji", "benar"), "salah")
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["password"]
    assert not office_folder(settings).exists()


@pytest.mark.parametrize(
    "content",
    [expired_p12("Kepala Dinas Lama", "rahasia"), b"not a pkcs12 file at all"],
    ids=["expired", "not-pkcs12"],
)
def test_an_expired_or_broken_file_is_422_naming_file(settings, client, cast, content):
    response = put_certificate(client, cast.admin["headers"], content, "rahasia")
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    assert not office_folder(settings).exists()


def test_only_an_admin_loads_a_certificate(client, cast):
    response = put_certificate(client, cast.approver["headers"], make_p12("X", "pw"), "pw")
    assert response.status_code == 403


def test_an_office_signs_with_its_own_certificate_once_loaded(settings, api, client, cast, decree):
    old_document, old_content = decree
    response = put_certificate(
        client, cast.admin["headers"], make_p12("Kepala Dinas Uji", "rahasia-kantor"), "rahasia-kantor"
    )
    assert response.status_code == 200, response.text
    loaded = response.json()["certificate"]
    assert loaded["subject"] == "Kepala Dinas Uji" and loaded["own"] is True and loaded["development"] is False
    # The password is kept encrypted, never in clear.
    record = (office_folder(settings) / "current.json").read_text()
    assert "rahasia-kantor" not in record and json.loads(record)["sha256"] == loaded["sha256"]
    shown = client.get(f"/api/v1/offices/{OFFICE}/certificate", headers=cast.admin["headers"]).json()
    assert shown["certificate"]["sha256"] == loaded["sha256"]

    grant = letters.make_grant(api, cast, region="13.06", group_name="Kelompok Sabun Sehat")
    grant.submit(api)
    receipt = letters.document_of(api, grant.application_id, "submission_receipt", grant.applicant["headers"])
    assert letters.render(api, receipt["id"]) == "rendered"
    content = letters.download(api, receipt["id"], grant.applicant["headers"])
    sig, status = validate(content, office_roots(settings))
    assert status.bottom_line and sig.signer_cert.subject.native["common_name"] == "Kepala Dinas Uji"
    assert "sertifikat pengembangan" not in letters.pdf_text(content)
    body = post_verify(client, receipt["verification_code"]).json()
    assert body["signature"]["valid"] is True and body["signature"]["signer"] == "Kepala Dinas Uji"
    assert body["signature"]["development"] is False
    # A letter signed before the office changed its certificate still validates.
    earlier = post_verify(client, old_document["verification_code"], old_content).json()
    assert earlier["signature"]["valid"] is True and earlier["signature"]["signer"] == OFFICE_NAME


def test_a_void_document_says_so_with_its_signature(api, client, decree):
    from tkm.documents.tables import Document

    document, _ = decree
    now = dt.datetime.now(dt.UTC)

    async def void() -> None:
        await Document.update({Document.voided_at: now, Document.void_reason: "Uji pembatalan"}).where(
            Document.id == document["id"]
        )

    async def unvoid() -> None:
        await Document.update({Document.voided_at: None, Document.void_reason: ""}).where(Document.id == document["id"])

    api.call(void)  # for good: a void document stays void (the last test of the module)
    body = post_verify(client, document["verification_code"]).json()
    assert body["status"] == "void" and body["void_reason"] == "Uji pembatalan"
    assert body["matches"] is True and body["signature"]["valid"] is True
    page = client.get(f"/verify/{document['verification_code']}")
    assert 'id="void"' in page.text and "Tanda tangan elektronik sah" in page.text
