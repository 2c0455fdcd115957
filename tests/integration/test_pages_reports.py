"""Monthly report pages: filing with rows, errors at their field with the input kept, revision notes and
resubmission, the reviewer's queue and decisions, the reports panel, access (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text, value_of
from tkm.reports.services import current_period


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.other_applicant = w.api.make_user("applicant")
    w.make_group(w.other_applicant, name="Kelompok Lain")
    return w


def active_application(world, name):
    """An active grant whose tranches due on approval are paid (7,000,000 of capital grant money held)."""
    group = world.make_group(world.applicant, name=name)
    app = world.new_application(group=group)
    world.to_state(app["id"], "active")
    world.pay_all(app["id"])
    return app["id"]


def selected_of(html, name):
    """The chosen option of the select named ``name`` (None when there is no such select)."""
    match = re.search(r'<select\b[^>]*\bname="' + re.escape(name) + r'"[^>]*>(.*?)</select>', html, re.S)
    if not match:
        return None
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return chosen.group(1) if chosen else ""


def report_form(**overrides):
    data = {
        "period": current_period(),
        "production[0].product": "masker",
        "production[0].unit": "pcs",
        "production[0].quantity": "1.000",
        "sales[0].product": "masker",
        "sales[0].quantity": "800",
        "sales[0].revenue": "Rp4.000.000",
        # Raw materials from the grant's capital money, marketing from the group's sales money (reinvested).
        "expenses[0].category": "raw_materials",
        "expenses[0].source": "grant",
        "expenses[0].component": "capital",
        "expenses[0].amount": "1.000.000",
        "expenses[1].category": "marketing",
        "expenses[1].source": "sales",
        "expenses[1].component": "",
        "expenses[1].amount": "250000",
        "workers": "8",
        "wages_paid": "0",
        "notes": "Pesanan dari apotek naik.",
    }
    data.update(overrides)
    return data


def test_errors_are_at_their_field_and_the_input_stays(world, client):
    app_id = active_application(world, "Kelompok Salah Isi")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/applications/{app_id}")
    assert f'href="/applications/{app_id}/reports/new"' in page.text
    new = pages.get(f"/applications/{app_id}/reports/new")
    assert new.status_code == 200
    assert value_of(new.text, "reinvested") is None, "reinvested is derived from the expense lines"
    assert selected_of(new.text, "expenses[__i__].source") is not None, "the row template asks who paid"
    # More sold than made, and a quantity that is not a number.
    form = report_form(**{"sales[0].quantity": "5000", "production[0].quantity": "banyak"})
    r = pages.post(f"/applications/{app_id}/reports/new", form)
    assert r.status_code == 422
    assert 'id="f-production-0-quantity-error"' in r.text
    assert value_of(r.text, "production[0].quantity") == "banyak"
    assert value_of(r.text, "sales[0].revenue") == "Rp4.000.000"
    assert value_of(r.text, "expenses[1].amount") == "250000"
    assert selected_of(r.text, "expenses[0].source") == "grant"
    assert selected_of(r.text, "expenses[0].component") == "capital"
    assert selected_of(r.text, "expenses[1].source") == "sales"
    assert "Baris produksi 1" in text(r.text), "the summary names the row"
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(**{"sales[0].quantity": "5000"}))
    assert r.status_code == 422
    assert 'id="f-sales-0-quantity-error"' in r.text
    assert value_of(r.text, "notes") is None and "Pesanan dari apotek naik." in r.text
    # More grant money than the group holds for capital (7,000,000 paid), and a grant line without a component.
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(**{"expenses[0].amount": "7.000.001"}))
    assert r.status_code == 422
    assert 'id="f-expenses-0-amount-error"' in r.text
    assert value_of(r.text, "expenses[0].amount") == "7.000.001"
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(**{"expenses[0].component": ""}))
    assert r.status_code == 422
    assert 'id="f-expenses-0-component-error"' in r.text
    # More of the group's own money than this month's sales.
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(**{"expenses[1].amount": "4.000.001"}))
    assert r.status_code == 422
    assert 'id="f-expenses-1-amount-error"' in r.text
    # A period before approval is refused at the period field.
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(period="2019-01"))
    assert r.status_code == 422
    assert 'id="f-period-error"' in r.text
    assert world.get(f"/api/v1/applications/{app_id}/reports", world.applicant).json() == []


def test_rows_can_be_added_without_javascript(world, client):
    app_id = active_application(world, "Kelompok Tanpa Skrip")
    pages = Pages(client).login(world.applicant)
    r = pages.post(f"/applications/{app_id}/reports/new", {**report_form(), "_add": "sales"})
    assert r.status_code == 200
    assert value_of(r.text, "sales[1].product") == ""
    assert value_of(r.text, "sales[0].product") == "masker"


def test_file_revise_resubmit_accept(world, client):
    app_id = active_application(world, "Kelompok Lapor")
    applicant = Pages(client).login(world.applicant)
    r = applicant.post(f"/applications/{app_id}/reports/new", report_form())
    assert r.status_code == 303, text(r.text)[:2000]
    report_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert "sudah dikirim" in text(applicant.follow(r).text)
    report = world.get(f"/api/v1/reports/{report_id}", world.reviewer).json()
    assert report["revenue"] == 4_000_000 and report["expenses_total"] == 1_250_000
    assert report["reinvested"] == 250_000, "the line paid from sales"
    assert {(e["category"], e["source"], e["component"]) for e in report["expenses"]} == {
        ("raw_materials", "grant", "capital"),
        ("marketing", "sales", None),
    }

    reviewer = Pages(client).login(world.reviewer)
    queue = reviewer.get("/reports?region=13.71")
    assert f'href="/reports/{report_id}"' in queue.text
    assert f'href="/reports/{report_id}"' not in reviewer.get("/reports?region=13.01").text
    r = reviewer.post(f"/reports/{report_id}/actions/request_revision", {"notes": "", "version": "1"})
    assert r.status_code == 422
    assert 'id="f-review-notes-error"' in r.text
    r = reviewer.post(
        f"/reports/{report_id}/actions/request_revision", {"notes": "Lampirkan nota bahan baku.", "version": "1"}
    )
    assert r.status_code == 303

    applicant.login(world.applicant)
    page = applicant.get(f"/reports/{report_id}")
    assert "Lampirkan nota bahan baku." in text(page.text)
    edit = applicant.get(f"/reports/{report_id}/edit")
    assert value_of(edit.text, "expenses[1].amount") == "250000"
    assert selected_of(edit.text, "expenses[0].component") == "capital"
    assert selected_of(edit.text, "expenses[1].source") == "sales"
    version = value_of(edit.text, "version")
    r = applicant.post(f"/reports/{report_id}/edit", report_form(version=version, **{"expenses[1].amount": "300000"}))
    assert r.status_code == 303, text(r.text)[:2000]

    reviewer.login(world.reviewer)
    page = reviewer.get(f"/reports/{report_id}")
    version = value_of(page.text, "version")
    r = reviewer.post(f"/reports/{report_id}/actions/accept", {"version": version})
    assert r.status_code == 303
    report = world.get(f"/api/v1/reports/{report_id}", world.reviewer).json()
    assert report["status"] == "accepted" and report["expenses_total"] == 1_300_000
    assert report["reinvested"] == 300_000
    trail = world.get(f"/api/v1/applications/{app_id}/funds-trail", world.reviewer).json()
    assert trail["totals"]["revenue"] == 4_000_000
    assert trail["totals"]["grant_spent"] == 1_000_000 and trail["totals"]["own_spent"] == 300_000
    assert trail["totals"]["spent"] == 1_300_000 and trail["totals"]["own_balance"] == 3_700_000
    # The application page lists the report.
    page = applicant.login(world.applicant).get(f"/applications/{app_id}")
    row = re.search(rf'<tr data-report="{current_period()}">.*?</tr>', page.text, re.S).group(0)
    assert "Diterima" in text(row)


def test_missing_csrf_and_other_groups(world, client):
    app_id = active_application(world, "Kelompok Privat")
    pages = Pages(client).login(world.applicant)
    r = pages.post(f"/applications/{app_id}/reports/new", report_form(), csrf=False)
    assert r.status_code == 403
    assert world.get(f"/api/v1/applications/{app_id}/reports", world.applicant).json() == []
    r = pages.post(f"/applications/{app_id}/reports/new", report_form())
    report_id = int(r.headers["location"].rsplit("/", 1)[1])
    other = Pages(client).login(world.other_applicant)
    for url in (f"/reports/{report_id}", f"/reports/{report_id}/edit", f"/applications/{app_id}/reports/new"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/applications/{app_id}/reports/new", report_form()).status_code == 404
    assert other.post(f"/reports/{report_id}/edit", report_form()).status_code == 404
    # Only reviewers decide on reports.
    assert pages.post(f"/reports/{report_id}/actions/accept", {}).status_code == 403
