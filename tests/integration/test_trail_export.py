"""GET /api/v1/funds-trail: every trail line in scope as CSV or XLSX, in people's words, cells safe from
formulas; and the same safety in the payment batch file (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import openpyxl
import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.ledger_setup import actor, make_programme
from tests.support.pages import Pages
from tkm.core.cells import JAKARTA
from tkm.ledger import services
from tkm.programmes.tables import Programme
from tkm.testing import seeding
from tkm.testing.builders import members
from tkm.web.labels import LABELS, label

M = 1_000_000
URL = "/api/v1/funds-trail"
#: Codes of the JSON that no cell of a download may show.
CODES = set(LABELS["entry"]) | set(LABELS["component"]) | set(LABELS["expense"])
FORMULA_GROUP = '=HYPERLINK("x")'
FORMULA_HOLDER = "@SUM(1)"
# Column headings in Bahasa Indonesia (the default language).
APPLICATION, GROUP, REGION = "Permohonan", "Kelompok", "Kode wilayah"
DATE, WHAT, COMPONENT, AMOUNT, BALANCE = "Tanggal", "Uraian", "Komponen", "Jumlah (Rp)", "Saldo setelahnya (Rp)"
REFERENCE, NOTES = "Referensi", "Catatan"


@pytest.fixture(scope="module")
def world(module_client):
    """Users, and three grants with money moved: two programmes, regions 13 (Padang) and 31 (Jakarta)."""
    api = Api(module_client)
    w = World(api)
    w.finance13 = api.make_user("finance", ["13"])
    w.finance31 = api.make_user("finance", ["31"])
    w.auditor = api.make_user("auditor")
    w.reviewer13 = api.make_user("reviewer", ["13"])
    first = make_programme(api, w.admin, ceiling=100 * M, regions=["13", "31"])
    second = make_programme(api, w.admin, ceiling=100 * M, regions=["13"])
    w.codes = {pid: api.call(programme_code, pid) for pid in (first, second)}
    w.grants = {
        "padang": grant(api, w, first, "13.71", FORMULA_GROUP),
        "jakarta": grant(api, w, first, "31.71", "Kelompok Jakarta"),
        "padang2": grant(api, w, second, "13.71", "Kelompok Padang Dua"),
    }
    return w


async def programme_code(programme_id):
    row = await Programme.select(Programme.code).where(Programme.id == programme_id).first()
    return row["code"]


def grant(api, w, programme_id, region, name):
    """An approved application with a commitment, a payment and its reversal, payments and a report."""
    group_id = api.call(seeding.insert_group, w.applicant["id"], region, name)
    app_id = api.call(seeding.insert_application, programme_id, group_id, w.applicant["id"], region, status="approved")
    approver, finance = actor(w.approver, ("13", "31")), actor(w.finance, ("13", "31"))
    api.call(services.commit_budget, app_id, programme_id, {"capital": 9 * M, "wages": 4 * M}, approver)
    pay = api.call(services.record_payment, app_id, "capital", 5 * M, FORMULA_HOLDER, finance)
    api.call(services.reverse, pay, "-rekening ditutup", finance)
    api.call(services.record_payment, app_id, "capital", 5 * M, f"TRF-{app_id}", finance)
    api.call(services.record_payment, app_id, "wages", 2 * M, f"TRF-{app_id}-2", finance)
    api.call(
        services.record_report,
        app_id,
        grant_spent={"capital": 2_345_678, "wages": 1 * M},
        own_spent=750_000,
        revenue=4_500_000,
        reference="2020-04",
        actor=actor(w.reviewer, ("13", "31")),
    )
    return app_id


def per_grant(w, app_id):
    async def collect():
        return [line async for line in services.trail(app_id)]

    return w.api.call(collect)


def expected(w, *names):
    """The per-grant trails of the named grants, one after the other, as the whole trail orders them."""
    return [(app_id, line) for app_id in sorted(w.grants[n] for n in names) for line in per_grant(w, app_id)]


def csv_rows(response, delimiter=","):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=delimiter))


def xlsx_sheet(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def xlsx_rows(response):
    sheet = xlsx_sheet(response)
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], values, strict=True)) for values in rows[1:]]


def get(w, user, **params):
    return w.client.get(URL, params=params, headers=user["headers"])


def today():
    return dt.datetime.now(JAKARTA).date()


def test_finance_sees_their_regions_the_auditor_everything(world):
    w = world
    padang = {int(r[APPLICATION]) for r in csv_rows(get(w, w.finance13))}
    assert padang == {w.grants["padang"], w.grants["padang2"]}
    assert {int(r[APPLICATION]) for r in csv_rows(get(w, w.finance31))} == {w.grants["jakarta"]}
    assert {r[REGION] for r in csv_rows(get(w, w.finance13))} == {"13.71"}
    everything = {int(r[APPLICATION]) for r in csv_rows(get(w, w.auditor))}
    assert set(w.grants.values()) <= everything
    xlsx = {row[APPLICATION] for row in xlsx_rows(get(w, w.finance13, format="xlsx"))}
    assert xlsx == {w.grants["padang"], w.grants["padang2"]}


@pytest.mark.parametrize("who", ["reviewer13", "approver", "applicant", "admin"])
def test_other_roles_get_403(world, who):
    r = get(world, getattr(world, who))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_no_login_is_401(world):
    assert world.client.get(URL).status_code == 401


def test_a_region_outside_the_caller_s_is_403(world):
    r = get(world, world.finance13, region="31")
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "region"


def test_filters_by_programme_region_and_dates(world):
    w = world
    first = w.codes[min(w.codes)]
    by_programme = {int(r[APPLICATION]) for r in csv_rows(get(w, w.auditor, programme=first))}
    assert by_programme == {w.grants["padang"], w.grants["jakarta"]}
    by_region = {int(r[APPLICATION]) for r in csv_rows(get(w, w.auditor, region="31.71"))}
    assert by_region == {w.grants["jakarta"]}
    both = {int(r[APPLICATION]) for r in csv_rows(get(w, w.finance13, programme=first, region="13"))}
    assert both == {w.grants["padang"]}
    day = today()
    inside = csv_rows(get(w, w.auditor, programme=first, **{"from": day.isoformat(), "to": day.isoformat()}))
    assert len(inside) == len(expected(w, "padang", "jakarta"))
    assert {r[DATE] for r in inside} == {day.isoformat()}
    later = (day + dt.timedelta(days=1)).isoformat()
    earlier = (day - dt.timedelta(days=1)).isoformat()
    assert csv_rows(get(w, w.auditor, **{"from": later})) == []
    assert csv_rows(get(w, w.auditor, to=earlier)) == []
    assert xlsx_rows(get(w, w.auditor, format="xlsx", to=earlier)) == []


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [
        ({"from": "2026-13-01"}, "from", 422),
        ({"from": "1-1-2026"}, "from", 422),
        ({"to": "kemarin"}, "to", 422),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to", 422),
        ({"region": "99.99"}, "region", 422),
        ({"programme": "NO-SUCH"}, "programme", 422),
        ({"sep": "tab"}, "sep", 422),
        ({"format": "pdf"}, "format", 415),
    ],
)
def test_bad_parameters_name_the_field(world, params, field, status):
    r = get(world, world.auditor, **params)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == field


def test_csv_has_the_figures_of_the_per_grant_trails(world):
    w = world
    rows = csv_rows(get(w, w.finance13))
    want = expected(w, "padang", "padang2")
    assert len(rows) == len(want)
    for row, (app_id, line) in zip(rows, want, strict=True):
        assert int(row[APPLICATION]) == app_id
        assert (int(row[AMOUNT]), int(row[BALANCE])) == (line["amount"], line["balance_after"])
        assert row[WHAT] == label(line["kind"], "entry")
        assert row["Transaksi"] == str(line["transaction_id"])
    # Each grant's balance ends at its unspent money.
    for app_id in (w.grants["padang"], w.grants["padang2"]):
        last = [r for r in rows if int(r[APPLICATION]) == app_id][-1]
        assert int(last[BALANCE]) == w.api.call(services.totals, app_id)["unspent"]


def test_xlsx_has_the_figures_the_numbers_and_the_dates(world):
    w = world
    sheet = xlsx_sheet(get(w, w.finance13, format="xlsx"))
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = list(sheet.iter_rows(min_row=2))
    want = expected(w, "padang", "padang2")
    assert len(rows) == len(want)
    at = {name: header.index(name) for name in (APPLICATION, DATE, AMOUNT, BALANCE, WHAT)}
    for cells, (app_id, line) in zip(rows, want, strict=True):
        amount, balance, day = cells[at[AMOUNT]], cells[at[BALANCE]], cells[at[DATE]]
        assert cells[at[APPLICATION]].value == app_id
        assert (amount.value, balance.value) == (line["amount"], line["balance_after"])
        for money in (amount, balance):
            assert isinstance(money.value, int) and money.data_type == "n"
            assert "#,##0" in money.number_format and "Rp" in money.number_format
        assert isinstance(day.value, dt.datetime) and day.is_date and "yy" in day.number_format
        assert day.value.date() == today()
        assert cells[at[WHAT]].value == label(line["kind"], "entry")
    # A reversal's amount is a negative number, not text.
    negative = [c[at[AMOUNT]].value for c in rows if c[at[AMOUNT]].value < 0]
    assert negative and all(isinstance(v, int) for v in negative)


def test_per_grant_xlsx_money_and_dates(world):
    w = world
    app_id = w.grants["padang"]
    r = w.client.get(f"/api/v1/applications/{app_id}/funds-trail?format=xlsx", headers=w.finance13["headers"])
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    trail, totals = book.worksheets
    header = [c.value for c in next(trail.iter_rows(max_row=1))]
    for cells in trail.iter_rows(min_row=2):
        assert cells[header.index(AMOUNT)].data_type == "n" and "Rp" in cells[header.index(AMOUNT)].number_format
        assert cells[header.index(DATE)].is_date
    for name, amount in totals.iter_rows(min_row=2):
        assert isinstance(amount.value, int) and "Rp" in amount.number_format
        assert name.value not in CODES and "." not in name.value.split(":")[0]


def every_cell_of_every_export(w, app_id, user):
    """(name, cells) of the whole trail and the grant's own trail, as CSV and XLSX."""
    grant_url = f"/api/v1/applications/{app_id}/funds-trail"
    downloads = {
        "whole.csv": [list(r.values()) for r in csv_rows(get(w, user))],
        "whole.xlsx": [list(r.values()) for r in xlsx_rows(get(w, user, format="xlsx"))],
        "grant.csv": [
            list(r.values())
            for r in csv_rows(w.client.get(grant_url, params={"format": "csv"}, headers=user["headers"]))
        ],
    }
    book = openpyxl.load_workbook(
        io.BytesIO(w.client.get(grant_url, params={"format": "xlsx"}, headers=user["headers"]).content)
    )
    downloads["grant.xlsx"] = [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    return downloads


def test_labels_instead_of_codes_in_every_export(world):
    w = world
    for name, rows in every_cell_of_every_export(w, w.grants["padang"], w.finance13).items():
        values = {v for row in rows for v in row if isinstance(v, str)}
        assert not values & CODES, (name, values & CODES)
        assert "Pembayaran ke kelompok" in values, name  # payment
        assert "Upah" in values, name  # wages (grant spending reads by its RAB component)
        assert "Modal kerja" in values, name  # capital


def test_english_downloads_follow_the_request(world):
    w = world
    headers = {**w.finance13["headers"], "Accept-Language": "en"}
    rows = csv_rows(w.client.get(URL, headers=headers))
    assert {"Application", "Amount (Rp)", "What"} <= set(rows[0])
    assert "Payment to the group" in {r["What"] for r in rows} and "Working capital" in {r["Component"] for r in rows}


@pytest.mark.parametrize("sep", ["semicolon", ";"])
def test_semicolon_separator(world, sep):
    w = world
    r = get(w, w.finance13, sep=sep)
    first_line = r.content.decode("utf-8-sig").splitlines()[0]
    assert first_line.split(";")[:3] == [APPLICATION, GROUP, REGION]
    rows = csv_rows(r, delimiter=";")
    assert [int(row[AMOUNT]) for row in rows] == [line["amount"] for _, line in expected(w, "padang", "padang2")]
    app_id = w.grants["padang"]
    grant = w.client.get(
        f"/api/v1/applications/{app_id}/funds-trail", params={"format": "csv", "sep": sep}, headers=w.auditor["headers"]
    )
    assert [int(row[BALANCE]) for row in csv_rows(grant, delimiter=";")] == [
        line["balance_after"] for line in per_grant(w, app_id)
    ]
    default = get(w, w.finance13).content.decode("utf-8-sig").splitlines()[0]
    assert default.split(",")[:3] == [APPLICATION, GROUP, REGION]


def is_number(text):
    return text.lstrip("-").isdigit()


def test_formulas_are_neutralised_in_the_exports(world):
    w = world
    rows = csv_rows(get(w, w.finance13))
    padang = [r for r in rows if int(r[APPLICATION]) == w.grants["padang"]]
    assert {r[GROUP] for r in padang} == {"'" + FORMULA_GROUP}
    assert "'" + FORMULA_HOLDER in {r[REFERENCE] for r in padang}
    assert "'-rekening ditutup" in {r[NOTES] for r in padang}
    for name, cells in every_cell_of_every_export(w, w.grants["padang"], w.finance13).items():
        texts = [v for row in cells for v in row if isinstance(v, str)]
        # A CSV holds negative amounts as "-5000000": numbers, which a spreadsheet reads as numbers.
        assert not [t for t in texts if t[:1] in ("=", "+", "-", "@", "\t", "\r") and not is_number(t)], name
        assert any(t == "'" + FORMULA_HOLDER for t in texts), name
    xlsx = xlsx_rows(get(w, w.finance13, format="xlsx"))
    assert {r[GROUP] for r in xlsx if r[APPLICATION] == w.grants["padang"]} == {"'" + FORMULA_GROUP}


def test_formulas_are_neutralised_in_the_payment_batch(world):
    w = world
    body = {
        "name": FORMULA_GROUP,
        "region": "13.71",
        "address": "Jl. Sudirman 1, Padang",
        "products": ["masker"],
        "bank_account": {"bank": "+BRI", "number": "002101000123567", "holder": FORMULA_HOLDER},
        "members": members(10, district="137101"),
    }
    r = w.post("/api/v1/groups", w.applicant, body)
    assert r.status_code == 201, r.text
    app = w.to_state(w.new_application(group=r.json())["id"], "active")
    for t in w.get(f"/api/v1/applications/{app['id']}/tranches", w.finance).json():
        if t["due_condition"] == "on_approval":
            assert w.post(f"/api/v1/tranches/{t['id']}/actions/request", w.finance, {}).status_code == 200
            assert w.post(f"/api/v1/tranches/{t['id']}/actions/authorize", w.finance2, {}).status_code == 200
    batch = w.get("/api/v1/payment-batches?status=authorized&format=csv", w.finance)
    assert batch.status_code == 200
    rows = [row for row in csv.reader(io.StringIO(batch.text)) if row and row[6] == str(app["id"])]
    assert rows
    for row in rows:
        assert row[1] == "'+BRI" and row[3] == "'" + FORMULA_HOLDER and row[5] == "'" + FORMULA_GROUP
        assert int(row[4]) > 0  # the amount stays a number
        assert not [cell for cell in row if cell[:1] in ("=", "+", "-", "@")]


def test_whole_trail_reads_in_small_batches_the_same_lines(world):
    """Keyset reads across batch boundaries (and across grants) lose and repeat nothing."""
    w = world

    async def whole(batch_size):
        return [line async for line in services.whole_trail("1 = 1", [], batch_size=batch_size)]

    one_go = w.api.call(whole, 100_000)
    assert w.api.call(whole, 3) == one_go
    mine = [line for line in one_go if line["application_id"] in w.grants.values()]
    # Each line is the per-grant trail's line (every key of it, same values) plus whose line it is.
    whose = ("application_id", "group", "region")
    assert [(line["application_id"], {k: v for k, v in line.items() if k not in whose}) for line in mine] == (
        expected(w, "padang", "jakarta", "padang2")
    )
    assert {line["group"] for line in mine if line["application_id"] == w.grants["padang"]} == {FORMULA_GROUP}
    assert {line["region"] for line in mine if line["application_id"] == w.grants["jakarta"]} == {"31.71"}


def test_the_funds_trail_page_shows_words(world, client):
    w = world
    pages = Pages(client).login(w.finance13)
    page = pages.get(f"/applications/{w.grants['padang']}/funds-trail")
    assert page.status_code == 200
    cells = [
        unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td data-label=[^>]*>(.*?)</td>", page.text, re.S)
    ]
    assert cells and not set(cells) & CODES
    assert {"Pembayaran ke kelompok", "Pembalikan", "Modal kerja", "Upah"} <= set(cells)
    # A reversal of a payment names the payment's component in words.
    rows = re.findall(r'<tr class="reversal">(.*?)</tr>', page.text, re.S)
    assert rows and "Modal kerja" in rows[0]
    link = f"/api/v1/applications/{w.grants['padang']}/funds-trail?format=csv&amp;sep=semicolon"
    assert link in page.text
    semicolons = pages.get(unescape(link))
    assert csv_rows(semicolons, delimiter=";")[0][AMOUNT] == str(per_grant(w, w.grants["padang"])[0]["amount"])


def test_a_trail_longer_than_a_worksheet_goes_on_in_the_next(world):
    w = world
    app_id = w.grants["padang"]

    async def workbook():
        from tkm.ledger import exports

        handle = await exports.lines_xlsx(services.trail(app_id), exports.COLUMNS, rows_per_sheet=4)
        try:
            return openpyxl.load_workbook(io.BytesIO(handle.read()))
        finally:
            handle.close()

    book = w.api.call(workbook)
    lines = per_grant(w, app_id)
    sheets = book.worksheets
    assert len(sheets) == -(-len(lines) // 4) and sheets[1].title == "Jejak dana (2)"
    rows = [row for sheet in sheets for row in list(sheet.iter_rows(values_only=True))[1:]]
    assert all(next(sheet.iter_rows(values_only=True))[0] == DATE for sheet in sheets)
    assert [row[4] for row in rows] == [line["amount"] for line in lines]
