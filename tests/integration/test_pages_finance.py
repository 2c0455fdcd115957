"""Finance pages: the tranche queue with filters, request / authorize / pay / fail through forms with an
Idempotency-Key, separation of duties shown on the page, bank statements, the tranches and letters panels,
the funds trail page and its downloads with the session cookie, the programme report form (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text, value_of
from tkm.programmes.services import today


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.other_applicant = w.api.make_user("applicant")
    w.other_group = w.make_group(w.other_applicant, name="Kelompok Lain")
    w.auditor = w.api.make_user("auditor")
    return w


def active_application(world, name):
    group = world.make_group(world.applicant, name=name)
    app = world.new_application(group=group)
    world.to_state(app["id"], "active")
    return app["id"]


def tranches(world, app_id):
    return world.get(f"/api/v1/applications/{app_id}/tranches", world.finance).json()


def first_capital(world, app_id):
    return next(t for t in tranches(world, app_id) if t["component"] == "capital" and t["seq"] == 1)


def key_of(html, action):
    form = re.search(rf'<form[^>]*action="/tranches/\d+/actions/{action}".*?</form>', html, re.S)
    assert form, f"no {action} form"
    return value_of(form.group(0), "idempotency_key")


def totals(world, app_id):
    return world.get(f"/api/v1/applications/{app_id}/funds-trail", world.finance).json()["totals"]


def test_the_queue_lists_tranches_by_status_region_and_programme(world, client):
    app_id = active_application(world, "Kelompok Antrean")
    pages = Pages(client).login(world.finance)
    page = pages.get("/finance?status=planned")
    assert page.status_code == 200
    body = text(page.text)
    assert f"TKM-{app_id}-" in page.text
    assert "Kelompok Antrean" in body
    # Filters: a region with no applications and an unknown programme show nothing.
    assert f"TKM-{app_id}-" not in pages.get("/finance?status=planned&region=13.01").text
    assert f"TKM-{app_id}-" in pages.get(f"/finance?programme={world.programme['code']}&region=13.71").text
    assert f"TKM-{app_id}-" not in pages.get("/finance?programme=TIDAK-ADA").text
    assert f"TKM-{app_id}-" not in pages.get("/finance?status=paid").text
    # The applicant has no finance queue.
    assert Pages(client).login(world.applicant).get("/finance").status_code == 403


def test_request_authorize_pay_through_the_pages_with_separation_of_duties(world, client):
    app_id = active_application(world, "Kelompok Termin")
    tranche = first_capital(world, app_id)
    url = f"/tranches/{tranche['id']}"
    requester = Pages(client).login(world.finance)
    page = requester.get(url)
    r = requester.post(f"{url}/actions/request", {"idempotency_key": key_of(page.text, "request")})
    assert r.status_code == 303, text(r.text)[:2000]
    page = requester.follow(r)
    assert "Diminta" in text(page.text)
    # The requester is not offered "authorize", and the page says why ...
    assert f'action="/tranches/{tranche["id"]}/actions/authorize"' not in page.text
    assert "petugas keuangan lain" in text(page.text)
    # ... and posting it anyway is refused on the page, nothing moves.
    r = requester.post(f"{url}/actions/authorize", {"idempotency_key": "k" * 32})
    assert r.status_code == 403
    assert "petugas keuangan lain" in text(r.text)
    assert first_capital(world, app_id)["status"] == "requested"

    other = Pages(client).login(world.finance2)
    page = other.get(url)
    r = other.post(f"{url}/actions/authorize", {"idempotency_key": key_of(page.text, "authorize")})
    assert r.status_code == 303
    assert first_capital(world, app_id)["status"] == "authorized"

    # Pay with the reference missing: the error is next to that field and the date typed stays.
    page = other.follow(r)
    key = key_of(page.text, "pay")
    paid_on = today().isoformat()
    r = other.post(f"{url}/actions/pay", {"idempotency_key": key, "transfer_reference": " ", "paid_at": paid_on})
    assert r.status_code == 422
    assert 'id="f-pay-transfer_reference-error"' in r.text
    assert value_of(r.text, "paid_at") == paid_on
    assert key_of(r.text, "pay") == key, "the form shown again keeps its key"
    form = {"idempotency_key": key, "transfer_reference": "BRI-778899", "paid_at": paid_on}
    first = other.post(f"{url}/actions/pay", form)
    assert first.status_code == 303
    # The same form sent a second time (double click, reload): replayed, paid once.
    second = other.post(f"{url}/actions/pay", form)
    assert second.status_code == 303
    assert "tidak ada yang berpindah lagi" in text(other.follow(second).text)
    assert first_capital(world, app_id)["status"] == "paid"
    assert totals(world, app_id)["disbursed"] == tranche["amount"]

    # The application page shows the tranche as paid with its letters (SPM, BAST).
    page = Pages(client).login(world.applicant).get(f"/applications/{app_id}")
    row = re.search(rf'<tr data-tranche="{tranche["reference"]}">.*?</tr>', page.text, re.S).group(0)
    assert "Dibayar" in text(row)
    assert "SPM" in text(row) and "BAST" in text(row)


def test_a_form_without_the_csrf_token_moves_nothing(world, client):
    app_id = active_application(world, "Kelompok Tanpa Token")
    tranche = first_capital(world, app_id)
    pages = Pages(client).login(world.finance)
    r = pages.post(f"/tranches/{tranche['id']}/actions/request", {"idempotency_key": "a" * 32}, csrf=False)
    assert r.status_code == 403
    assert first_capital(world, app_id)["status"] == "planned"


def test_fail_needs_a_reason_and_returns_the_money(world, client):
    app_id = active_application(world, "Kelompok Gagal")
    world.pay_all(app_id)
    tranche = first_capital(world, app_id)
    assert tranche["status"] == "paid"
    pages = Pages(client).login(world.finance)
    page = pages.get(f"/tranches/{tranche['id']}")
    key = key_of(page.text, "fail")
    r = pages.post(f"/tranches/{tranche['id']}/actions/fail", {"idempotency_key": key, "reason": ""})
    assert r.status_code == 422
    assert 'id="f-fail-reason-error"' in r.text
    r = pages.post(f"/tranches/{tranche['id']}/actions/fail", {"idempotency_key": key, "reason": "Rekening ditutup"})
    assert r.status_code == 303
    assert first_capital(world, app_id)["status"] == "failed"
    assert "Rekening ditutup" in text(pages.follow(r).text)


def test_the_letters_of_a_refused_payment_are_shown_void(world, client):
    app_id = active_application(world, "Kelompok Surat Batal")
    tranche = world.pay(first_capital(world, app_id))
    pages = Pages(client).login(world.finance)
    page = pages.get(f"/tranches/{tranche['id']}")
    r = pages.post(
        f"/tranches/{tranche['id']}/actions/fail", {"idempotency_key": key_of(page.text, "fail"), "reason": "Rek. beku"}
    )
    assert r.status_code == 303
    letters = world.get(f"/api/v1/applications/{app_id}/documents", world.finance).json()
    void = [d for d in letters if d["kind"] in ("payment_order", "handover_record")]
    assert len(void) == 2 and all(d["status"] == "void" for d in void)

    # The tranche page: each letter struck through, marked void, with the bank's reason.
    page = pages.get(f"/tranches/{tranche['id']}")
    for d in void:
        item = re.search(rf'<li data-kind="{d["kind"]}" data-status="void" class="void">.*?</li>', page.text, re.S)
        assert item, f"{d['kind']} is not shown void"
        assert "<s>" in item.group(0) and d["number"] in item.group(0)
        assert "Rek. beku" in item.group(0) and "Batal" in text(item.group(0))

    # The application page: the letters panel and the tranches panel say so too.
    page = Pages(client).login(world.applicant).get(f"/applications/{app_id}")
    panel = re.search(r'<section class="card" id="letters".*?</section>', page.text, re.S).group(0)
    for d in void:
        item = re.search(rf'<li data-kind="{d["kind"]}" data-status="void" class="void">.*?</li>', panel, re.S)
        assert item and "<s>" in item.group(0) and d["number"] in item.group(0) and "Rek. beku" in item.group(0)
    row = re.search(rf'<tr data-tranche="{tranche["reference"]}">.*?</tr>', page.text, re.S).group(0)
    assert row.count('data-status="void"') == 2 and "Rek. beku" in row


def test_bank_statement_upload_lists_matched_and_unmatched_lines(world, client):
    app_id = active_application(world, "Kelompok Rekening")
    tranche = first_capital(world, app_id)
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/request", world.finance, {}).status_code == 200
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/authorize", world.finance2, {}).status_code == 200
    pages = Pages(client).login(world.finance)
    queue = pages.get("/finance?status=authorized")
    assert "/api/v1/payment-batches?status=authorized&amp;format=csv" in queue.text
    batch = pages.get("/api/v1/payment-batches?status=authorized&format=csv")
    assert batch.status_code == 200 and tranche["reference"] in batch.text, "the batch link works with the cookie"
    csv = f"reference,amount\n{tranche['reference']},{tranche['amount']}\nTKM-0-X9,5000\n"
    r = pages.post("/finance/statements", {}, files={"file": ("mutasi.csv", csv.encode(), "text/csv")})
    assert r.status_code == 200, text(r.text)[:2000]
    matched = text(r.text.split('id="unmatched-title"')[0].split('id="matched-title"')[1])
    unmatched = text(r.text.split('id="unmatched-title"')[1])
    assert tranche["reference"] in matched
    assert "TKM-0-X9" in unmatched and "Tidak ada termin" in unmatched
    assert first_capital(world, app_id)["status"] == "paid"
    r = pages.post("/finance/statements", {}, files={"file": ("kosong.csv", b"foo,bar\n1,2\n", "text/csv")})
    assert r.status_code == 422
    assert 'id="f-file-error"' in r.text
    r = pages.post("/finance/statements", {})  # no file chosen
    assert r.status_code == 422 and "Pilih berkas" in text(r.text)
    assert 'id="f-file-error"' in r.text


def test_funds_trail_page_and_downloads(world, client):
    app_id = active_application(world, "Kelompok Jejak")
    world.pay_all(app_id)
    paid = sum(t["amount"] for t in tranches(world, app_id) if t["status"] == "paid")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/applications/{app_id}/funds-trail")
    assert page.status_code == 200
    disbursed = re.search(r'data-total="disbursed">([^<]+)<', page.text).group(1)
    assert disbursed == "Rp" + f"{paid:,}".replace(",", ".")
    assert "Pembayaran ke kelompok" in text(page.text)
    # The download links are the API's, and the session cookie is enough for them.
    link = f"/api/v1/applications/{app_id}/funds-trail?format=xlsx"
    assert link in page.text
    xlsx = pages.get(link)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert sum(r[4] for r in rows[1:] if r[2] == "Pembayaran ke kelompok") == paid
    csv = pages.get(f"/api/v1/applications/{app_id}/funds-trail?format=csv")
    assert csv.status_code == 200 and "Pembayaran ke kelompok" in csv.text and "payment" not in csv.text
    # The signed PDF is ordered with a form (CSRF) and then listed.
    r = pages.post(f"/applications/{app_id}/funds-trail/pdf", {})
    assert r.status_code == 303
    assert "PDF" in text(pages.follow(r).text)
    docs = world.get(f"/api/v1/applications/{app_id}/documents", world.applicant).json()
    assert any(d["kind"] == "funds_trail" for d in docs)


def test_another_groups_pages_are_not_found(world, client):
    app_id = active_application(world, "Kelompok Rahasia")
    tranche = first_capital(world, app_id)
    pages = Pages(client).login(world.other_applicant)
    for url in (f"/applications/{app_id}/funds-trail", f"/tranches/{tranche['id']}", f"/applications/{app_id}"):
        assert pages.get(url).status_code == 404, url
    assert pages.post(f"/applications/{app_id}/funds-trail/pdf", {}).status_code == 404


def test_programme_report_form(world, client):
    pages = Pages(client).login(world.finance)
    page = pages.get("/programme-reports")
    assert page.status_code == 200
    r = pages.post("/programme-reports", {"programme": "", "region": "13"})
    assert r.status_code == 422
    assert 'id="f-programme-error"' in r.text
    assert re.search(r'<option value="13" selected>', r.text), "the region chosen stays chosen"
    r = pages.post("/programme-reports", {"programme": world.programme["code"], "region": "13"})
    assert r.status_code == 303
    page = pages.follow(r)
    assert "Ringkasan program" in text(page.text) or "Programme summary" in text(page.text)
    assert 'data-state="pending"' in page.text or "/pdf" in page.text
    assert Pages(client).login(world.applicant).get("/programme-reports").status_code == 403
