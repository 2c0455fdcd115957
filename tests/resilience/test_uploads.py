"""Uploads a reviewer can open safely: active PDFs and polyglots refused with the reason, images decoded and
encoded again within a pixel limit (EXIF stripped, GPS and time kept as data), names sanitised with the
sniffed type's extension, and a sandboxing CSP on every view. Real files, made here with pypdf and Pillow."""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.samples import PDF_BYTES, jpeg, pdf

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


@pytest.fixture(scope="module")
def draft(world):
    return world.new_application()


def _pdf(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_javascript(writer: PdfWriter) -> None:
    script = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('TKM');")}
    )
    names = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("a"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})


def with_launch(writer: PdfWriter) -> None:
    launch = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc")})
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): writer._add_object(launch)})


def with_embedded_file(writer: PdfWriter) -> None:
    writer.add_attachment("daftar.txt", b"isi lampiran")


def with_open_action(writer: PdfWriter) -> None:
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def refusal(response: Any, status: int) -> str:
    assert response.status_code == status, response.text[:400]
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in body["errors"]] == ["file"], body
    return body["detail"] + " " + body["errors"][0]["message"]


def english(world, app_id, content, filename="berkas.pdf"):
    return world.client.post(
        f"/api/v1/applications/{app_id}/attachments",
        headers={**world.applicant["headers"], "accept-language": "en"},
        files={"file": (filename, content, "application/pdf")},
        data={"kind": "proposal"},
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (with_javascript, "JavaScript"),
        (with_launch, "Launch"),
        (with_embedded_file, "embedded file"),
        (with_open_action, "OpenAction"),
    ],
)
def test_active_pdfs_are_refused_with_the_reason(world, draft, change, reason):
    before = len(world.app(draft["id"])["attachments"])
    text = refusal(english(world, draft["id"], _pdf(change)), 422)
    assert reason in text, text
    assert len(world.app(draft["id"])["attachments"]) == before


def test_a_plain_pdf_is_stored_as_it_came(world, draft):
    content = pdf("Proposal bersih")
    r = english(world, draft["id"], content)
    assert r.status_code == 201, r.text
    assert world.get(r.json()["url"], world.applicant).content == content


def test_polyglots_are_refused_with_the_reason(world, draft):
    html = PDF_BYTES.replace(b"%PDF-1.3\n", b"%PDF-1.3\n%<html><script>alert(1)</script></html>\n", 1)
    assert "web page" in refusal(english(world, draft["id"], html), 415)
    late_html = PDF_BYTES + b"\n% <script>alert(1)</script>\n"
    assert "web page" in refusal(english(world, draft["id"], late_html), 415)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("daftar.txt", "isi")
    assert "ZIP" in refusal(english(world, draft["id"], PDF_BYTES + archive.getvalue()), 415)
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(image, format="JPEG", comment=b"<html><script>alert(1)</script>")
    assert "web page" in refusal(english(world, draft["id"], image.getvalue(), "foto.jpg"), 415)
    damaged = b"%PDF-1.7\n" + b"\x00garbage" * 50
    assert "cannot be read" in refusal(english(world, draft["id"], damaged), 422)


def _photo_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "KameraMerk"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x010E] = "Rumah Ibu Sari, Jl. Melati 3"  # ImageDescription
    exif[0x0132] = "2020:04:02 09:15:00"  # DateTime
    exif.get_ifd(0x8769)[0x9003] = "2020:04:01 10:30:00"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (Fraction(0), Fraction(57), Fraction(9))
    gps[3], gps[4] = "E", (Fraction(100), Fraction(21), Fraction(18))
    gps[5], gps[6] = 0, Fraction(12)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_images_are_encoded_again_without_exif_but_gps_and_time_are_kept(world, draft):
    original = _photo_with_exif()
    assert Image.open(io.BytesIO(original)).getexif().get(0x010E), "the test photo carries EXIF"
    r = english(world, draft["id"], original, "foto-usaha.jpg")
    assert r.status_code == 201, r.text
    stored = world.get(r.json()["url"], world.applicant).content
    assert stored != original
    again = Image.open(io.BytesIO(stored))
    assert again.format == "JPEG" and again.size == (64, 48)
    assert dict(again.getexif()) == {} and b"Rumah Ibu Sari" not in stored and b"KameraMerk" not in stored

    from tkm.applications import attachments

    meta = world.api.call(attachments.photo_metadata, r.json()["id"])
    assert meta["taken_at"] == "2020-04-01T10:30:00"
    assert meta["gps"]["latitude"] == pytest.approx(-(57 / 60 + 9 / 3600))
    assert meta["gps"]["longitude"] == pytest.approx(100 + 21 / 60 + 18 / 3600)
    assert meta["gps"]["altitude"] == 12
    plain = english(world, draft["id"], jpeg("TANPA EXIF"), "ktp.jpg")
    assert world.api.call(attachments.photo_metadata, plain.json()["id"]) is None


def test_an_image_beyond_the_pixel_limit_is_refused(world, draft):
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, format="PNG")  # 50 megapixels in a few KB
    assert len(bomb.getvalue()) < 100_000
    assert "pixels" in refusal(english(world, draft["id"], bomb.getvalue(), "peta.png"), 422)


@pytest.mark.parametrize(
    ("content", "sent", "kept"),
    [
        (jpeg, "x.html", "x.jpg"),
        (jpeg, "foto.jpeg", "foto.jpg"),
        (pdf, "tagihan\u202efdp.exe", "tagihanfdp.pdf"),
        (pdf, "../../etc/passwd.pdf", "passwd.pdf"),
        (pdf, "C:\\Users\\sari\\proposal.pdf", "proposal.pdf"),
        (pdf, "\u200bdiam\u2066-\u2069.pdf", "diam-.pdf"),
        (pdf, ".pdf", "berkas.pdf"),
        (pdf, "laporan v1.2 final", "laporan v1.2 final.pdf"),
    ],
)
def test_stored_names_are_sanitised_and_take_the_sniffed_extension(world, draft, content, sent, kept):
    r = english(world, draft["id"], content(), sent)
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == kept
    download = world.get(r.json()["url"], world.applicant)
    assert "\u202e" not in download.headers["content-disposition"]


def test_a_long_name_keeps_its_extension(world, draft):
    r = english(world, draft["id"], pdf(), "a" * 3000 + ".pdf")
    assert r.status_code == 201, r.text
    name = r.json()["filename"]
    assert name.endswith(".pdf") and len(name) <= 130


def test_viewing_an_attachment_is_sandboxed(world, draft):
    r = english(world, draft["id"], pdf("Dilihat"), "lihat.pdf")
    assert r.status_code == 201, r.text
    for url in (r.json()["url"], f"/attachments/{r.json()['id']}/inline"):
        shown = world.get(url, world.reviewer)
        assert shown.status_code == 200, (url, shown.text[:200])
        assert shown.headers["content-security-policy"] == SANDBOX
        assert shown.headers["x-content-type-options"] == "nosniff"
