"""The whole TKM journey through the pages in a real browser: sign up, group, application, documents, submit;
the reviewer verifies and scores; the approver approves; the applicant sees the decision and the timeline,
downloads the decree and signs the agreement; finance requests, authorizes (another officer) and pays the first
capital tranche; the applicant files a monthly report, the reviewer accepts it; the dashboard shows the new
figures; the funds trail downloads as XLSX."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.conftest import screenshot as take_screenshot
from tkm.testing.builders import nik

pytestmark = [pytest.mark.slow, pytest.mark.browser]


#: Each run files its group in its own regency, so the dashboard filtered to it shows that run's money alone.
DEVICES = {"desktop": (None, "13.71"), "phone": (PHONE, "13.06")}


@pytest.mark.parametrize("device", list(DEVICES))
def test_apply_review_approve(new_page, staff, worker, device):
    viewport, regency = DEVICES[device]
    applicant_email = f"ketua-{secrets.token_hex(3)}@tkm.test"
    page = new_page(viewport=viewport)

    def screenshot(p: Any, name: str, *, full_page: bool = True) -> None:
        """The README's screenshots come from the desktop run; the phone run checks nothing is too wide."""
        if viewport is None:
            take_screenshot(p, name, full_page=full_page)
        else:
            assert _page_width(p) <= viewport["width"], name

    # Applicant: sign up, register the group, apply, upload, submit.
    steps.register_applicant(page, applicant_email)
    screenshot(page, "01-start-applicant", full_page=False)
    numbered = {"group-form": "02-group-form", "application-form": "04-application-form"}
    steps.create_group(page, shots=lambda p, name: screenshot(p, numbered[name]), regency=regency)
    screenshot(page, "03-group")
    app_id = steps.create_application(page, shots=lambda p, name: screenshot(p, numbered[name]))
    expect(page.locator(".status-line .badge")).to_have_text("Draf")
    steps.upload_documents(page)
    screenshot(page, "05-application-draft")
    steps.submit(page)
    steps.logout(page)

    # Reviewer: the queue shows it; start the review with the declaration, then recommend with scores.
    steps.login(page, staff.reviewer)
    tiles = page.locator(".count-tiles").first
    expect(tiles).to_contain_text("Diajukan")
    screenshot(page, "06-start-reviewer", full_page=False)
    page.get_by_role("link", name="Antrean verifikasi").click()
    row = page.locator("tr", has=page.get_by_role("link", name=f"#{app_id}", exact=True))
    expect(row).to_contain_text("Kelompok Jahit Sehati")
    expect(row).to_contain_text("Diajukan")
    screenshot(page, "07-review-queue", full_page=False)
    row.get_by_role("link", name="Kelompok Jahit Sehati").click()
    # The documents are shown in the page (image inline; PDF in a frame) from the same-origin inline route.
    image = page.locator("img.att-image")
    expect(image).to_have_attribute("src", re.compile(r"^/attachments/\d+/inline$"))
    expect(page.locator("iframe.att-pdf")).to_have_count(2)
    start = page.get_by_role("button", name="Mulai verifikasi")
    start.click()  # without the declaration: refused, and the checkbox is marked
    expect(page.locator("#action-start_review .error")).to_be_visible()
    page.get_by_label(re.compile("tidak memiliki konflik kepentingan")).check()
    page.get_by_role("button", name="Mulai verifikasi").click()
    expect(page.locator(".status-line .badge")).to_have_text("Sedang diverifikasi")

    recommend = page.locator("#action-recommend")
    expect(recommend.locator('[name="recommended_budget.capital"]')).to_have_value("9000000")
    for criterion, score in {"business_feasibility": 4, "market": 4, "group_capacity": 3, "budget_fit": 5}.items():
        recommend.locator(f'label.score:has(input[name="scores.{criterion}"][value="{score}"])').click()
    # The 1-5 choices are radio buttons: the keyboard moves between them.
    recommend.locator('input[name="scores.employment"][value="3"]').focus()
    page.keyboard.press("ArrowRight")
    expect(recommend.locator('input[name="scores.employment"][value="4"]')).to_be_checked()
    recommend.locator('[name="recommended_budget.capital"]').fill("8.500.000")
    recommend.get_by_label(re.compile("Catatan")).fill("Usaha layak; modal dikurangi sedikit.")
    steps.check_accessibility(page)
    steps.let_documents_render(page)
    screenshot(page, "08-review-scoring")
    recommend.get_by_role("button", name="Rekomendasikan").click()
    expect(page.locator(".status-line .badge")).to_have_text("Direkomendasikan")
    steps.logout(page)

    # Approver: several-at-once list with score and recommended budget; approve this one.
    steps.login(page, staff.approver)
    page.get_by_role("link", name="Persetujuan").click()
    row = page.locator("tr", has=page.locator(f"#pick-{app_id}"))
    expect(row).to_contain_text("Rp15.000.000")  # recommended: 8.5 + 4 + 1.5 + 1 million
    row.locator(f"#pick-{app_id}").check()
    page.get_by_label("Setujui", exact=True).check()
    page.get_by_label("Catatan atau alasan").fill("Disetujui sesuai rekomendasi.")
    steps.check_accessibility(page)
    screenshot(page, "09-approvals")
    page.get_by_role("button", name="Terapkan pada permohonan yang dicentang").click()
    expect(page.locator(".notice")).to_contain_text(f"#{app_id}: Setujui, sekarang Disetujui.")
    screenshot(page, "10-approvals-result", full_page=False)
    steps.logout(page)

    # Applicant: the start page shows the decision; the timeline has every step with its notes.
    steps.login(page, applicant_email)
    card = page.locator("li", has=page.get_by_role("link", name=re.compile(f"#{app_id}")))
    expect(card.locator(".badge")).to_have_text("Disetujui")
    card.get_by_role("link").click()
    timeline = page.locator(".timeline")
    for label in ("Permohonan dibuat", "Ajukan", "Mulai verifikasi", "Rekomendasikan", "Setujui"):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("Usaha layak; modal dikurangi sedikit.")
    expect(timeline).to_contain_text("Rina Verifikator")
    expect(page.locator(".callout")).to_contain_text("Disetujui sesuai rekomendasi.")
    # Only what the workflow allows now: upload the signed agreement (no submit, no withdraw).
    expect(page.get_by_label("Jenis dokumen").locator("option").first).to_have_text("Perjanjian bertanda tangan")
    expect(page.get_by_role("button", name="Ajukan", exact=True)).to_have_count(0)
    steps.check_accessibility(page)
    screenshot(page, "11-applicant-timeline")

    # Decided on the approvals page, the group's SK is its extract (petikan) of the collective decree; made by
    # the worker, it downloads from the letters on the application page, beside the cooperation agreement.
    decree = steps.download(page, steps.wait_for_letter(page, "decree_extract"))
    assert decree.suggested_filename.startswith("decree_extract-") and decree.suggested_filename.endswith(".pdf")
    steps.wait_for_letter(page, "cooperation_agreement")
    with open(decree.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    steps.sign_agreement(page)
    reference = f"TKM-{app_id}-CAP1"
    expect(page.locator(f'tr[data-tranche="{reference}"] .badge')).to_have_text("Direncanakan")
    steps.logout(page)

    # Finance officer 1 requests the first capital tranche (70 % of the approved Rp8.500.000).
    steps.login(page, staff.finance)
    steps.open_tranche(page, reference, "Direncanakan")
    expect(page.locator(".facts")).to_contain_text("Rp5.950.000")
    expect(page.locator("#action-request input[name=idempotency_key]")).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    page.get_by_role("button", name="Ajukan pembayaran").click()
    expect(page.locator(".status-line .badge")).to_have_text("Diminta")
    # The same officer may not authorize it: no button, and the page says why.
    expect(page.get_by_role("button", name="Otorisasi")).to_have_count(0)
    expect(page.locator(".blocked")).to_contain_text("petugas keuangan lain")
    steps.logout(page)

    # Finance officer 2 authorizes (an SPM is issued) and marks it paid with the bank's reference.
    steps.login(page, staff.finance2)
    steps.open_tranche(page, reference, "Diminta")
    page.get_by_role("button", name="Otorisasi").click()
    expect(page.locator(".status-line .badge")).to_have_text("Diotorisasi")
    page.get_by_role("navigation", name=re.compile("Menu")).get_by_role("link", name="Keuangan").click()
    expect(page.get_by_role("link", name=re.compile("Unduh berkas pembayaran kolektif"))).to_be_visible()
    steps.check_accessibility(page)
    screenshot(page, "12-finance-queue")
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Nomor referensi transfer bank").fill("NAGARI-20200415-0042")
    steps.check_accessibility(page)
    page.get_by_role("button", name="Tandai sudah dibayar").click()
    expect(page.locator(".status-line .badge")).to_have_text("Dibayar")
    steps.logout(page)

    # The applicant files the month's report.
    steps.login(page, applicant_email)
    steps.file_report(page, app_id, shots=lambda p, name: screenshot(p, "13-" + name))
    steps.logout(page)

    # The reviewer accepts it from the reports queue.
    steps.login(page, staff.reviewer)
    page.get_by_role("link", name="Laporan bulanan").click()
    page.locator("tr", has_text="Kelompok Jahit Sehati").get_by_role("link").first.click()
    page.get_by_role("button", name="Terima laporan").click()
    expect(page.locator(".status-line .badge")).to_have_text("Diterima")

    # The dashboard shows the new numbers: the payment, the accepted report's sales, spending and reinvestment
    # (filtered to this group's regency, chosen with the page's own filter form).
    page.get_by_role("navigation", name=re.compile("Menu")).get_by_role("link", name="Dasbor").click()
    page.get_by_label("Wilayah", exact=True).select_option(regency)
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_label("Wilayah", exact=True)).to_have_value(regency)
    figures = {
        "disbursed": "Rp5.950.000",
        "spent": "Rp2.000.000",  # grant money spent; the marketing line was paid from sales
        "revenue": "Rp5.000.000",
        "reinvested": "Rp1.000.000",
        "reinvestment_rate": "20,0%",
        "workers": "8",
    }
    for figure, text in figures.items():
        expect(page.locator(f'[data-figure="{figure}"]')).to_have_text(text)
    expect(page.locator("table", has_text="masker")).to_contain_text("1.200")
    steps.check_accessibility(page)
    screenshot(page, "15-dashboard")

    # The funds trail: payment and report lines with running balances; the XLSX has the payment.
    page.goto(f"/applications/{app_id}")
    page.get_by_role("link", name="Seluruh jejak dana, dengan unduhan").click()
    expect(page.locator('[data-total="disbursed"]')).to_have_text("Rp5.950.000")
    expect(page.locator('[data-total="grant_spent"]')).to_have_text("Rp2.000.000")
    expect(page.locator('[data-total="unspent"]')).to_have_text("Rp3.950.000")
    expect(page.locator('[data-total="reinvested"]')).to_have_text("Rp1.000.000")
    expect(page.locator('[data-total="own_balance"]')).to_have_text("Rp4.000.000")
    expect(page.locator('[data-total="spent"]')).to_have_text("Rp3.000.000")  # grant and own money
    steps.check_accessibility(page)
    screenshot(page, "14-funds-trail")
    workbook = steps.download(page, page.get_by_role("link", name="Unduh XLSX"))
    from openpyxl import load_workbook

    with open(workbook.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])  # headings and kinds in the reader's language, money as numbers
    payments = [r for r in rows[1:] if r[header.index("Uraian")] == "Pembayaran ke kelompok"]
    assert [r[header.index("Jumlah (Rp)")] for r in payments] == [5_950_000]


def test_applicant_on_a_phone(new_page, staff):
    """The applicant's part at 360 x 740: nothing wider than the screen; every step works."""
    page = new_page(viewport=PHONE)
    steps.register_applicant(page, f"hp-{secrets.token_hex(3)}@tkm.test", name="Dewi Lestari")
    screenshot(page, "m1-start", full_page=False)
    steps.create_group(page, name="Kelompok Sabun Mandiri", shots=lambda p, n: screenshot(p, "m2-" + n))
    assert _page_width(page) <= PHONE["width"]
    steps.create_application(page, shots=lambda p, n: screenshot(p, "m3-" + n))
    assert _page_width(page) <= PHONE["width"]
    # A file above the limit is stopped in the phone, before 10 MB go over a slow line.
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1)
    page.get_by_label("Berkas").set_input_files(
        files=[{"name": "besar.pdf", "mimeType": "application/pdf", "buffer": big}]
    )
    expect(page.locator("#f-file-error")).to_contain_text("lebih besar dari 10 MB")
    page.get_by_role("button", name="Unggah", exact=True).click()
    expect(page.get_by_label("Berkas")).to_be_focused()
    expect(page.locator(".attachments > li")).to_have_count(0)
    steps.upload_documents(page)
    steps.submit(page)
    screenshot(page, "m4-application")
    assert _page_width(page) <= PHONE["width"]
    # The menu and the log-out button stay reachable with the keyboard (skip link first).
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def _page_width(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_in_english(new_page, staff):
    """The language switch in the header turns every label English, and it sticks across pages."""
    page = new_page()
    page.goto("/login")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Sign up as a group leader").click()
    page.get_by_label("Full name").fill("Nurul Aini")
    page.get_by_label("E-mail").fill(f"en-{secrets.token_hex(3)}@tkm.test")
    page.get_by_label("Mobile phone").fill("081277700012")
    page.get_by_label("Password").fill(staff.password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="How to apply")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link")).to_have_text(["Start", "My groups", "My applications", "Dashboard"])

    page.get_by_role("link", name="Register a group").first.click()
    expect(page.get_by_label("Group name")).to_be_visible()
    expect(page.get_by_label("Regency or city")).to_be_visible()
    expect(page.get_by_label("Account holder")).to_be_visible()
    nik_input = page.locator('[name="members[0].nik"]')
    nik_input.press_sequentially(nik("137101", dt.date(1985, 3, 12), True), delay=5)
    expect(page.locator("#f-members-0-nik-check")).to_contain_text("born March 12, 1985")
    expect(page.locator("#f-members-0-nik-check")).to_contain_text("Female (P)")
    # Sending the form half-filled: the messages are English too, each at its field.
    page.get_by_role("button", name="Register the group").click()
    expect(page.get_by_role("heading", name="Please check the marked answers")).to_be_visible()
    expect(page.locator("#f-name-error")).to_have_text(re.compile("Name is required"))
    expect(page.locator("#f-members-0-name-error")).to_be_visible()
    expect(page.locator('[name="members[0].nik"]')).not_to_have_value("")
    screenshot(page, "en-group-form-errors", full_page=False)
