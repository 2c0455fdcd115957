"""Offices say who signs what, and every letter is right in form: event dates, signatories with NIP and rank,
the meterai box, the SPM's budget references and cumulative figures, and no raw code in any letter's text.

Runs on SQLite and PostgreSQL; letters are rendered with real WeasyPrint and read back with pypdf.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tkm.core.money import long_date
from tkm.documents.kinds import KINDS
from tkm.programmes.services import today

NIP = "198203032006042002"
GOOD_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs>'
    b'<rect width="10" height="10" fill="url(#g)"/></svg>'
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def office_body(**overrides):
    body = {
        "code": "1372",
        "name": "Dinas Tenaga Kerja Kota Solok",
        "region": "13.72",
        "letterhead": ["PEMERINTAH KOTA SOLOK", "DINAS TENAGA KERJA"],
        "address": "Jalan Lubuk Sikarah Nomor 5, Solok",
        "city": "Solok",
        "signatory_name": "",
        "signatory_title": "Kepala Dinas Tenaga Kerja Kota Solok",
        "contact": {
            "phone": "(0755) 20123",
            "email": "disnaker@solokkota.go.id",
            "website": "disnaker.solokkota.go.id",
        },
        "legal_bases": ["Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan"],
        "number_pattern": "{seq:03d}/{class}/DISNAKER-{office}/{roman_month}/{year}",
        "signatories": {
            "submission_receipt": {
                "name": "Yulia Sari, S.E.",
                "nip": NIP,
                "rank": "Penata (III/c)",
                "title": "Kepala Seksi Perluasan Kesempatan Kerja",
            }
        },
    }
    return {**body, **overrides}


def fields_of(response):
    return {e["field"] for e in response.json().get("errors", [])}


def offices_count(world):
    return len(world.get("/api/v1/offices", world.admin).json())


# --- the settings and their validation -------------------------------------------------------------------------------


def test_bad_office_settings_are_refused_naming_the_field_and_nothing_is_written(world):
    before = offices_count(world)
    person = {"name": "Yulia Sari", "nip": NIP, "rank": "Penata (III/c)", "title": "Pejabat Pembuat Komitmen"}
    cases = [
        ({"signatories": {"payment_order": {**person, "nip": "19820303200604200"}}}, "signatories.payment_order.nip"),
        ({"signatories": {"payment_order": {**person, "nip": "1982030320060420021"}}}, "signatories.payment_order.nip"),
        ({"signatories": {"payment_order": {**person, "nip": "19820303200604200x"}}}, "signatories.payment_order.nip"),
        ({"signatories": {"payment_order": {**person, "title": "  "}}}, "signatories.payment_order.title"),
        ({"signatories": {"payment_order": {**person, "name": ""}}}, "signatories.payment_order.name"),
        ({"signatories": {"no_such_kind": person}}, "signatories.no_such_kind"),
        ({"number_pattern": "{class}/{office}/{year}"}, "number_pattern"),
        ({"number_pattern": "{seq}/{class}/{office}/{tahun}"}, "number_pattern"),
        ({"contact": {"phone": "", "email": "disnaker at solok", "website": ""}}, "contact.email"),
        ({"contact": {"phone": "telepon kantor", "email": "", "website": ""}}, "contact.phone"),
        ({"contact": {"phone": "", "email": "", "website": "not a site"}}, "contact.website"),
        ({"legal_bases": ["Undang-Undang Nomor 13 Tahun 2003", "  "]}, "legal_bases[1]"),
    ]
    for change, field in cases:
        r = world.post("/api/v1/offices", world.admin, office_body(**change))
        assert r.status_code == 422, (change, r.text)
        assert field in fields_of(r), (change, r.json())
    missing_seq = world.post("/api/v1/offices", world.admin, office_body(number_pattern="{class}/{office}/{year}"))
    assert "{seq}" in missing_seq.text
    assert offices_count(world) == before


def test_office_settings_round_trip_and_patch(world):
    r = world.post("/api/v1/offices", world.admin, office_body(code="1373", region="13.73"))
    assert r.status_code == 201, r.text
    office = r.json()
    assert office["contact"] == {
        "phone": "(0755) 20123",
        "email": "disnaker@solokkota.go.id",
        "website": "disnaker.solokkota.go.id",
    }
    assert (
        office["number_pattern"]
        == office["numbering_pattern"]
        == "{seq:03d}/{class}/DISNAKER-{office}/{roman_month}/{year}"
    )
    assert office["signatories"]["submission_receipt"] == {
        "name": "Yulia Sari, S.E.",
        "nip": NIP,
        "rank": "Penata (III/c)",
        "title": "Kepala Seksi Perluasan Kesempatan Kerja",
    }
    assert office["legal_bases"] == ["Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan"]
    assert office["logo"] == "" and office["logo_url"] is None
    # A NIP written in its printed groups is kept as 18 digits.
    spaced = {"default": {"name": "Drs. Amran", "nip": "19700101 199503 1 001", "rank": "", "title": "Kepala Dinas"}}
    patched = world.client.patch("/api/v1/offices/1373", json={"signatories": spaced}, headers=world.admin["headers"])
    assert patched.status_code == 200, patched.text
    assert patched.json()["signatories"] == {"default": {**spaced["default"], "nip": "197001011995031001"}}
    bad = world.client.patch(
        "/api/v1/offices/1373", json={"number_pattern": "{office}/{year}"}, headers=world.admin["headers"]
    )
    assert bad.status_code == 422 and "number_pattern" in fields_of(bad)
    assert world.get("/api/v1/offices/1373", world.admin).json()["version"] == patched.json()["version"]
    # The default pattern names no office kind ("DISNAKER").
    body = office_body(code="1374", region="13.74")
    del body["number_pattern"]
    created = world.post("/api/v1/offices", world.admin, body).json()
    assert created["number_pattern"] == "{seq:03d}/{class}/{office}/{roman_month}/{year}"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>', "onload"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x'
            b"</div></foreignObject></svg>",
            "foreignobject",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<image xlink:href="http://example.org/x.png" width="1" height="1"/></svg>',
            "href",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(http://example.org/p)"/></svg>', "url"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://example.org/a.css";</style></svg>', "import"),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
            "entity",
        ),
        (b"GIF89a not a png", "format"),
    ],
)
def test_a_logo_that_could_run_or_reach_out_is_refused(world, content, why):
    r = world.client.put(
        "/api/v1/offices/PUSAT/logo",
        files={"file": ("logo.svg", content, "image/svg+xml")},
        headers=world.admin["headers"],
    )
    assert r.status_code == 422, (why, r.text)
    assert fields_of(r) == {"logo"}, why
    assert world.get("/api/v1/offices/PUSAT", world.admin).json()["logo"] == ""


def test_a_clean_svg_or_png_logo_is_kept_and_served(world):
    r = world.client.put(
        "/api/v1/offices/1373/logo",
        files={"file": ("logo.svg", GOOD_SVG, "image/svg+xml")},
        headers=world.admin["headers"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["logo"] == "svg" and r.json()["logo_url"] == "/api/v1/offices/1373/logo"
    served = world.get("/api/v1/offices/1373/logo", world.admin)
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert b"<rect" in served.content and b"<script" not in served.content
    assert (
        world.client.put(
            "/api/v1/offices/1373/logo",
            files={"file": ("logo.svg", GOOD_SVG, "image/svg+xml")},
            headers=world.reviewer["headers"],
        ).status_code
        == 403
    )
    png = world.client.put(
        "/api/v1/offices/1373/logo", files={"file": ("logo.png", PNG, "image/png")}, headers=world.admin["headers"]
    )
    assert png.status_code == 200 and png.json()["logo"] == "png"
    assert world.get("/api/v1/offices/1373/logo", world.admin).content == PNG


# --- a letter nobody is set to sign is refused ------------------------------------------------------------------------


def test_a_letter_whose_signatory_is_not_set_is_refused_naming_the_setting(world):
    r = world.post("/api/v1/offices", world.admin, office_body())
    assert r.status_code == 201, r.text
    group = world.make_group(world.applicant, region="13.72", name="Kelompok Tanpa Penanda Tangan")
    app = world.to_state(world.new_application(group=group)["id"], "recommended")
    refused = world.act(app["id"], "approve", world.approver, {"notes": "Disetujui."})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["setting"] == "signatories.approval_decree" and problem["office"] == "1372"
    assert "signatories.approval_decree" in problem["detail"] and "1372" in problem["detail"]
    assert "signatories.approval_decree" in fields_of(refused)
    # Nothing was written: the application waits, no decree, no number taken.
    assert world.app(app["id"])["status"] == app["status"]
    kinds = [d["kind"] for d in world.get(f"/api/v1/applications/{app['id']}/documents", world.approver).json()]
    assert "approval_decree" not in kinds
    # Once the office names its decree signatory, the same approval goes through.
    signer = {
        "name": "Ir. Syafri",
        "nip": "197203141998031004",
        "rank": "Pembina (IV/a)",
        "title": "Pejabat Pembuat Komitmen",
    }
    fixed = world.client.patch(
        "/api/v1/offices/1372",
        json={"signatories": {"default": signer, **office_body()["signatories"]}},
        headers=world.admin["headers"],
    )
    assert fixed.status_code == 200, fixed.text
    assert world.act(app["id"], "approve", world.approver, {"notes": "Disetujui."}).status_code == 200
    (decree,) = [
        d
        for d in world.get(f"/api/v1/applications/{app['id']}/documents", world.approver).json()
        if d["kind"] == "approval_decree"
    ]
    assert re.fullmatch(r"001/SK/DISNAKER-1372/[IVX]+/\d{4}", decree["number"]), decree["number"]
    text = letters.pdf_text(ready_pdf(world, decree["id"]))
    assert "Ir. Syafri" in text and "NIP. 19720314 199803 1 004" in text and "Pembina (IV/a)" in text
    assert "Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan" in text  # Mengingat: the office's list
    assert "Telepon (0755) 20123" in text and "disnaker@solokkota.go.id" in text


# --- letters of a small journey ---------------------------------------------------------------------------------------


def ready_pdf(world, document_id):
    from tkm.documents import services

    assert world.api.call(services.render, document_id) in ("rendered", "already-ready")
    r = world.get(f"/api/v1/documents/{document_id}/pdf", world.finance)
    assert r.status_code == 200, r.text
    return r.content


def docs(world, app_id, kind=None):
    items = world.get(f"/api/v1/applications/{app_id}/documents", world.finance).json()
    return [d for d in items if kind is None or d["kind"] == kind]


def tranche_of(world, app_id, component, seq):
    return next(
        t
        for t in world.get(f"/api/v1/applications/{app_id}/tranches", world.finance).json()
        if t["component"] == component and t["seq"] == seq
    )


@pytest.fixture(scope="module")
def journey(world):
    """An application approved two months ago, its capital tranche paid a month ago, the others paid today."""
    from tkm.testing.time_travel import approve_in_the_past

    group = world.make_group(world.applicant, name="Kelompok Tenun Saiyo")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], 2)
    paid_on = today() - dt.timedelta(days=30)
    capital = world.pay(tranche_of(world, app["id"], "capital", 1), paid_on=paid_on)
    world.pay_all(app["id"])
    r = world.client.get(
        f"/api/v1/applications/{app['id']}/funds-trail",
        params={"format": "pdf"},
        headers=world.finance["headers"],
        follow_redirects=False,
    )
    assert r.status_code == 202, r.text
    return {"app": app, "paid_on": paid_on, "capital": capital}


def test_a_bast_is_dated_on_its_payment_and_cites_the_decree_with_the_decrees_own_date(world, journey):
    app_id = journey["app"]["id"]
    (decree,) = docs(world, app_id, "approval_decree")
    decree_day = dt.date.fromisoformat(letters_snapshot(world, decree["id"])["document"]["dated_on"])
    assert decree_day < today() - dt.timedelta(days=40)  # the decision, two months ago
    bast = next(
        d
        for d in docs(world, app_id, "handover_record")
        if letters_snapshot(world, d["id"])["tranche"]["id"] == journey["capital"]["id"]
    )
    text = letters.pdf_text(ready_pdf(world, bast["id"]))
    paid = long_date(journey["paid_on"], "id")
    assert f"({paid})" in text and f", {paid}" in text  # "Pada hari ini ... (date)" and the place and date line
    assert f"Keputusan Nomor {decree['number']} tanggal {long_date(decree_day, 'id')}" in text
    assert long_date(today(), "id") not in text.replace(" · ", " ")  # not the day it was rendered
    # The number's month is the payment's.
    roman = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[journey["paid_on"].month - 1]
    assert f"/{roman}/{journey['paid_on'].year}" in bast["number"]
    # The decree itself is dated on the decision and cites the verification record, not the approver's note.
    decree_text = letters.pdf_text(ready_pdf(world, decree["id"]))
    assert f"pada tanggal {long_date(decree_day, 'id')}" in decree_text
    assert re.search(r"Memperhatikan : Berita Acara Hasil Verifikasi Nomor \d{3}/BA-VER/\d+/\d{4} tanggal", decree_text)
    assert "Disetujui." not in decree_text


def letters_snapshot(world, document_id):
    return world.api.call(letters.snapshot, document_id)


def test_meterai_box_only_above_five_million(world, journey):
    app_id = journey["app"]["id"]
    seen = {}
    for d in docs(world, app_id, "handover_record"):
        amount = letters_snapshot(world, d["id"])["tranche"]["amount"]
        seen[amount > 5_000_000] = "Meterai Rp10.000" in letters.pdf_text(ready_pdf(world, d["id"]))
    assert seen == {True: True, False: False}, seen


def test_spm_prints_budget_references_and_cumulative_figures(world, journey):
    code = world.programme["code"]
    r = world.client.patch(
        f"/api/v1/programmes/{code}",
        json={"account_code": "026.05.WA.4284.EBA.001.052.A.526211", "budget_reference": "DIPA-026.05.1.690561/2026"},
        headers=world.admin["headers"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["account_code"] == "026.05.WA.4284.EBA.001.052.A.526211"
    too_long = world.client.patch(
        f"/api/v1/programmes/{code}", json={"account_code": "9" * 101}, headers=world.admin["headers"]
    )
    assert too_long.status_code == 422 and "account_code" in fields_of(too_long)
    # An SPM for the second capital tranche: the first one's money is "paid so far".
    from tkm.core.money import rupiah
    from tkm.testing.time_travel import approve_in_the_past, period

    group = world.make_group(world.applicant, name="Kelompok Kedua")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    approve_in_the_past(world.api, app["id"], 1)
    first = world.pay(tranche_of(world, app["id"], "capital", 1))
    world.accepted_report(app["id"], period=period(1))
    second = world.pay(tranche_of(world, app["id"], "capital", 2))
    (spm,) = [
        d
        for d in docs(world, app["id"], "payment_order")
        if letters_snapshot(world, d["id"])["tranche"]["id"] == second["id"]
    ]
    ctx = letters_snapshot(world, spm["id"])
    row = next(r for r in ctx["cumulative"]["rows"] if r["component"] == "capital")
    assert row["paid_before"] == first["amount"] > 0 and row["this"] == second["amount"] > 0
    assert row["remaining"] == row["approved"] - first["amount"] - second["amount"]
    assert ctx["cumulative"]["paid_before"] >= first["amount"]
    text = letters.pdf_text(ready_pdf(world, spm["id"]))
    assert "Dibayar s.d. SPM lalu" in text and "Sisa pagu" in text
    assert rupiah(row["paid_before"]) in text and rupiah(row["remaining"]) in text
    assert "026.05.WA.4284.EBA.001.052.A.526211" in text and "DIPA-026.05.1.690561/2026" in text
    assert "Pejabat Penandatangan Surat Perintah Membayar" in text  # the SPM's own signatory (PPSPM)
    assert "setelah laporan bulanan pertama kelompok diterima" in text  # the tranche's condition, in words


RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_no_raw_code_and_no_blank_signatory_in_any_letter(world, journey):
    app_id = journey["app"]["id"]
    rendered = docs(world, app_id)
    assert {"submission_receipt", "approval_decree", "payment_order", "handover_record", "funds_trail"} <= {
        d["kind"] for d in rendered
    }
    for d in rendered:
        text = letters.pdf_text(ready_pdf(world, d["id"]))
        assert not RAW_CODE.findall(text), (d["kind"], RAW_CODE.findall(text))
        for code in ("on_approval", "(……)", "(.....", "payment ", "report_expense", "(13.", "None", "BLK-"):
            assert code not in text, (d["kind"], code)
        if KINDS[d["kind"]].signed_by_office:  # the group's own statement is signed by its leader alone
            assert "NIP." in text, d["kind"]
        # The verification link is printed whole (never broken in the middle of the address).
        assert d["verify_url"] in text, d["kind"]
        assert "ditandatangani secara elektronik" in text  # every letter is signed (PAdES): the footer says so
