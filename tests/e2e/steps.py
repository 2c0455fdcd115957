"""Steps of the TKM journey, done the way a person does them: through the pages, with the keyboard and mouse.

Labels are the Indonesian ones (the default language) unless a step says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from playwright.sync_api import expect

from tests.support.api import PASSWORD
from tkm.testing import samples
from tkm.testing.builders import nik

MEMBERS = [
    ("Siti Rahmawati", dt.date(1985, 3, 12), True),
    ("Dewi Lestari", dt.date(1990, 7, 2), True),
    ("Rina Marlina", dt.date(1988, 11, 23), True),
    ("Andi Saputra", dt.date(1992, 1, 30), False),
    ("Yusuf Hidayat", dt.date(1979, 5, 5), False),
    ("Nurul Aini", dt.date(1995, 9, 17), True),
]
#: Budget lines (component, description, quantity, unit, unit cost as typed) within the test programme's caps.
BUDGET = [
    ("capital", "Mesin jahit dan kain katun", "2", "paket", "4.500.000"),
    ("wages", "Upah penjahit", "50", "hari", "80000"),
    ("product_development", "Desain label dan kemasan", "1", "paket", "1.500.000"),
    ("marketing", "Promosi di pasar dan media sosial", "1", "paket", "1000000"),
]
DOCUMENTS = [
    ("proposal", "proposal-usaha.pdf", "application/pdf", lambda: samples.pdf("Proposal usaha")),
    ("ktp", "ktp-anggota.jpg", "image/jpeg", samples.jpeg),
    ("sk_kelompok", "sk-kelompok.pdf", "application/pdf", lambda: samples.pdf("SK Kelompok")),
]


def field(page: Any, name: str) -> Any:
    return page.locator(f'[name="{name}"]')


def register_applicant(page: Any, email: str, name: str = "Siti Rahmawati") -> None:
    page.goto("/register")
    page.get_by_label("Nama lengkap").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Nomor HP").fill("081277700011")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Buat akun").click()
    expect(page.get_by_role("heading", name=re.compile("Selamat datang"))).to_be_visible()


def login(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()


def logout(page: Any) -> None:
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()


def fill_member(page: Any, index: int, name: str, born: dt.date, female: bool, role: str | None = None) -> str:
    """Type a member's NIK key by key and wait for the check next to it; returns the NIK."""
    number = nik("137101", born, female)
    nik_input = field(page, f"members[{index}].nik")
    nik_input.click()
    nik_input.press_sequentially(number, delay=5)
    check = page.locator(f"#f-members-{index}-nik-check")
    expect(check).to_contain_text("✓")
    expect(check).to_contain_text("Kota Padang")
    field(page, f"members[{index}].name").fill(name)
    if role:
        field(page, f"members[{index}].role").select_option(role)
    # The NIK says the gender; the page fills it in when it was not chosen yet.
    expect(field(page, f"members[{index}].gender")).to_have_value("P" if female else "L")
    return number


def create_group(page: Any, name: str = "Kelompok Jahit Sehati", shots: Any = None, regency: str = "13.71") -> int:
    page.get_by_role("link", name="Daftarkan kelompok").first.click()
    expect(page.get_by_role("heading", name="Daftarkan kelompok")).to_be_visible()
    page.get_by_label("Nama kelompok").fill(name)
    page.get_by_label("Produk").fill("masker, sabun")
    page.get_by_label("Provinsi").select_option("13")
    # htmx narrows the regency list to the province; wait for it before choosing.
    expect(page.locator("#f-region option")).to_have_count(20)
    page.get_by_label("Kabupaten atau kota").select_option(regency)
    page.get_by_label("Alamat").fill("Jl. Khatib Sulaiman No. 5, Padang")
    page.get_by_label(re.compile(r"^Bank")).fill("Bank Nagari")
    page.get_by_label("Nomor rekening").fill("1234567890")
    page.get_by_label("Nama pemilik rekening").fill(name)

    for i, (member, born, female) in enumerate(MEMBERS[:5]):
        fill_member(page, i, member, born, female)
    # A sixth member through "add a member" (a new row, numbered and checked like the others) ...
    page.get_by_role("button", name="Tambah anggota").click()
    expect(field(page, "members[5].nik")).to_be_focused()
    fill_member(page, 5, *MEMBERS[5])
    # ... and a seventh that is removed again.
    page.get_by_role("button", name="Tambah anggota").click()
    page.get_by_role("button", name="Hapus anggota 7").click()
    expect(page.locator("[data-rows=members] > [data-row]")).to_have_count(6)
    check_accessibility(page)
    if shots:
        shots(page, "group-form")
    page.get_by_role("button", name="Daftarkan kelompok").click()
    expect(page.locator(".notice")).to_contain_text(f"{name} berhasil didaftarkan")
    expect(page.get_by_role("heading", name="Anggota")).to_be_visible()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def create_application(page: Any, shots: Any = None) -> int:
    page.get_by_role("link", name="Ajukan bantuan").click()
    expect(page.get_by_role("heading", name="Permohonan baru")).to_be_visible()
    page.get_by_label("Apa yang akan dibuat dan dijual kelompok?").fill(
        "Menjahit masker kain tiga lapis dan membuat sabun cair untuk warung dan apotek di Padang."
    )
    page.get_by_label("Siapa pembelinya, dan di mana?").fill("Apotek, sekolah dan pasar Raya Padang.")
    page.get_by_label("Jumlah orang yang akan bekerja").fill("8")
    field(page, "business_plan.products[0].product").fill("masker")
    field(page, "business_plan.products[0].unit").fill("pcs")
    field(page, "business_plan.products[0].units_per_day").fill("200")
    field(page, "business_plan.products[0].unit_cost").fill("2500")
    field(page, "business_plan.products[0].unit_price").fill("5000")
    for i, (component, description, quantity, unit, cost) in enumerate(BUDGET):
        expect(field(page, f"budget[{i}].component")).to_have_value(component)
        field(page, f"budget[{i}].description").fill(description)
        field(page, f"budget[{i}].quantity").fill(quantity)
        field(page, f"budget[{i}].unit").fill(unit)
        field(page, f"budget[{i}].unit_cost").fill(cost)
    # Live totals: 2 × Rp4.500.000 on the line, per component and overall, against the caps.
    expect(page.locator("[data-budget-row]").first.locator("[data-line-total]")).to_have_text("Rp9.000.000")
    expect(page.locator('[data-total-for="wages"]')).to_have_text("Rp4.000.000")
    expect(page.locator("[data-grand-total]")).to_have_text("Rp15.500.000")
    # Over the cap is said in words, not only in colour; back under the cap the warning goes.
    field(page, "budget[0].quantity").fill("3")
    expect(page.locator('[data-check-for="capital"]')).to_have_text("Melebihi batas")
    field(page, "budget[0].quantity").fill("2")
    expect(page.locator('[data-check-for="capital"]')).to_have_text("✓")
    check_accessibility(page)
    if shots:
        shots(page, "application-form")
    page.get_by_role("button", name="Simpan sebagai draf").click()
    expect(page.locator(".notice")).to_contain_text("disimpan sebagai draf")
    return int(page.url.rstrip("/").rsplit("/", 1)[1].split("#")[0])


def upload_documents(page: Any) -> None:
    # Before the documents are in, "Ajukan" is not offered and the page says why.
    expect(page.locator(".blocked")).to_contain_text("proposal")
    expect(page.get_by_role("button", name="Ajukan", exact=True)).to_have_count(0)
    for kind, filename, mime, make in DOCUMENTS:
        page.get_by_label("Jenis dokumen").select_option(kind)
        page.get_by_label("Berkas").set_input_files(files=[{"name": filename, "mimeType": mime, "buffer": make()}])
        page.get_by_role("button", name="Unggah", exact=True).click()
        expect(page.locator(".notice")).to_contain_text(filename)
    expect(page.locator(".attachments > li")).to_have_count(len(DOCUMENTS))
    check_accessibility(page)


def submit(page: Any) -> None:
    page.get_by_role("button", name="Ajukan", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Diajukan")
    expect(page.locator(".status-line .badge")).to_have_text("Diajukan")


def status(page: Any) -> str:
    return str(page.locator(".status-line .badge").inner_text())


def let_documents_render(page: Any) -> None:
    """Bring the lazily loaded PDF frames into view and give the viewer a moment (only for screenshots)."""
    for frame in page.locator("iframe.att-pdf").all():
        frame.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.evaluate("window.scrollTo(0, 0)")


A11Y_SCRIPT = """() => {
  const problems = [];
  const controls = document.querySelectorAll("input:not([type=hidden]):not([type=submit]), select, textarea");
  for (const el of controls) {
    if (el.closest("template")) continue;
    const named = el.labels.length > 0 || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) problems.push("no label: " + (el.name || el.id || el.outerHTML.slice(0, 80)));
  }
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    if (el.closest("template")) continue;
    ids[el.id] = (ids[el.id] || 0) + 1;
  }
  for (const [id, n] of Object.entries(ids)) if (n > 1) problems.push("duplicate id: " + id);
  for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push("img without alt");
  for (const frame of document.querySelectorAll("iframe")) if (!frame.title) problems.push("iframe without title");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(h1 + " h1 elements");
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  for (const ref of document.querySelectorAll("[aria-describedby]")) {
    for (const id of ref.getAttribute("aria-describedby").split(/\\s+/)) {
      if (id && !document.getElementById(id)) problems.push("aria-describedby points nowhere: " + id);
    }
  }
  return problems;
}"""


def check_accessibility(page: Any) -> None:
    """Every control has a label, ids are unique, images and frames are named, one h1, references resolve."""
    problems = page.evaluate(A11Y_SCRIPT)
    assert problems == [], f"{page.url}: {problems}"


# --- after approval: agreement, tranches, monthly report, funds trail ----------------------------------------------


def wait_for_letter(page: Any, kind: str, timeout_s: float = 90) -> Any:
    """Reload the application page until the worker has made the letter and its download link shows."""
    link = page.locator(f'#letters li[data-kind="{kind}"] a.pdf').first
    for _ in range(int(timeout_s / 2)):
        if link.count():
            return link
        page.wait_for_timeout(2000)
        page.reload()
    raise AssertionError(f"the {kind} letter was not made in {timeout_s} s")


def download(page: Any, link: Any) -> Any:
    with page.expect_download() as info:
        link.click()
    return info.value


def sign_agreement(page: Any) -> None:
    page.get_by_label("Jenis dokumen").select_option("agreement")
    page.get_by_label("Berkas").set_input_files(
        files=[{"name": "perjanjian.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("Perjanjian")}]
    )
    page.get_by_role("button", name="Unggah", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("perjanjian.pdf")
    page.get_by_role("button", name="Tanda tangani perjanjian").click()
    expect(page.locator(".status-line .badge")).to_have_text("Berjalan")


def open_tranche(page: Any, reference: str, status_tab: str) -> None:
    page.get_by_role("navigation", name=re.compile("Menu")).get_by_role("link", name="Keuangan").click()
    page.get_by_role("link", name=re.compile(status_tab)).first.click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile(reference))).to_be_visible()


def file_report(page: Any, app_id: int, shots: Any = None) -> None:
    page.goto(f"/applications/{app_id}")
    page.get_by_role("link", name=re.compile("Kirim laporan bulanan")).click()
    expect(page.get_by_role("heading", name="Laporan bulanan")).to_be_visible()
    field(page, "production[0].product").fill("masker")
    field(page, "production[0].unit").fill("pcs")
    field(page, "production[0].quantity").fill("1.200")
    field(page, "sales[0].product").fill("masker")
    field(page, "sales[0].quantity").fill("1000")
    field(page, "sales[0].revenue").fill("5.000.000")
    # Raw materials paid from the grant's capital money.
    field(page, "expenses[0].category").select_option("raw_materials")
    field(page, "expenses[0].source").select_option("grant")
    field(page, "expenses[0].component").select_option("capital")
    field(page, "expenses[0].amount").fill("2.000.000")
    # A second expense line, added in place by the page's script (focus moves into it), paid from the group's
    # own sales money: the month's reinvestment (no separate figure to type).
    page.get_by_role("button", name="Tambah baris belanja").click()
    expect(field(page, "expenses[1].category")).to_be_focused()
    field(page, "expenses[1].category").select_option("marketing")
    field(page, "expenses[1].source").select_option("sales")
    field(page, "expenses[1].component").select_option("")
    field(page, "expenses[1].amount").fill("1.000.000")
    expect(field(page, "reinvested")).to_have_count(0)
    page.get_by_label("Orang yang bekerja").fill("8")
    page.get_by_label("Upah dibayar (Rp)").fill("1.600.000")
    check_accessibility(page)
    if shots:
        shots(page, "report-form")
    page.get_by_role("button", name="Kirim laporan", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("sudah dikirim")
    expect(page.locator(".status-line .badge")).to_have_text("Menunggu pemeriksaan")
