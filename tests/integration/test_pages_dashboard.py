"""The dashboard page shows the same figures as the API, with charts that carry a title, a description and
a table; filters keep to the caller's scope (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import HTML, Pages, text
from tkm.core.money import number, rupiah
from tkm.testing.time_travel import approve_in_the_past, period


@pytest.fixture(scope="module")
def world(module_client) -> World:
    w = World(Api(module_client))
    app = w.to_state(w.new_application()["id"], "active")
    approve_in_the_past(w.api, app["id"], 1)
    w.pay_all(app["id"])
    w.accepted_report(
        app["id"],
        period=period(1),
        production=[{"product": "masker", "unit": "pcs", "quantity": 4321}],
        sales=[{"product": "masker", "quantity": 4000, "revenue": 20_000_000}],
        # Grant money spent (the dashboard's "spent") and the group's own money spent (reinvested 4,000,000).
        expenses=[
            {"category": "raw_materials", "amount": 3_500_000, "source": "grant", "component": "capital"},
            {"category": "equipment", "amount": 4_000_000, "source": "sales"},
        ],
        workers=12,
    )
    w.to_state(w.new_application(group=w.make_group(w.applicant, name="Kelompok Kedua"))["id"], "submitted")
    return w


def figure(html: str, name: str) -> str:
    match = re.search(r'data-figure="' + name + r'">([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def api_figures(world: World, user: dict[str, Any], **params: str) -> dict[str, Any]:
    r = world.client.get("/api/v1/dashboard", params=params, headers=user["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def test_reviewer_page_shows_the_api_figures(world, client):
    data = api_figures(world, world.reviewer)
    assert data["money"]["disbursed"] > 0 and data["revenue"] == 20_000_000
    page = Pages(client).login(world.reviewer).get("/dashboard")
    assert page.status_code == 200, page.text
    html = page.text
    assert figure(html, "applications") == number(data["applications"], "id") == "2"
    assert figure(html, "approved") == rupiah(data["money"]["approved"])
    assert figure(html, "disbursed") == rupiah(data["money"]["disbursed"])
    assert figure(html, "spent") == rupiah(data["money"]["spent"]) == "Rp3.500.000"
    assert figure(html, "revenue") == rupiah(data["revenue"]) == "Rp20.000.000"
    assert figure(html, "reinvested") == rupiah(data["reinvested"])
    assert figure(html, "reinvestment_rate") == "20,0%"
    assert figure(html, "workers") == "12"
    for state, n in data["applications_by_status"].items():
        assert re.search(r'data-status="' + state + r'">' + str(n) + "<", html)
    visible = text(html)
    # Tables beside the charts carry the same numbers (by month, by region, by product).
    month = data["by_month"][0]
    assert month["month"] in visible and rupiah(month["revenue"]) in visible
    assert data["by_region"][0]["region_name"] in visible
    assert "4.321" in visible and "4.000" in visible  # produced and sold masker
    # Every chart is an image with a title and a description, followed by a table with a caption.
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        labelled = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', svg)
        assert labelled and 'role="img"' in svg
        assert f'<title id="{labelled.group(1)}">' in svg and f'<desc id="{labelled.group(2)}">' in svg
    assert html.count("<caption>") == 4
    # The menu has the entry, marked as the current page.
    assert re.search(r'<a href="/dashboard" aria-current="page">', html)


def test_filters_and_their_errors(world, client):
    pages = Pages(client).login(world.reviewer)
    r = pages.get("/dashboard", params={"region": "13.71", "programme": world.programme["code"]})
    assert r.status_code == 200
    data = api_figures(world, world.reviewer, region="13.71", programme=world.programme["code"])
    assert figure(r.text, "disbursed") == rupiah(data["money"]["disbursed"])
    assert re.search(r'<option value="13.71" selected>', r.text)

    r = pages.get("/dashboard", params={"region": "31"})  # Jakarta: outside the reviewer's regions
    assert r.status_code == 403
    assert 'aria-invalid="true"' in r.text and "error-summary" in r.text
    assert figure(r.text, "disbursed") == rupiah(api_figures(world, world.reviewer)["money"]["disbursed"])
    r = pages.get("/dashboard", params={"programme": "NOPE"})
    assert r.status_code == 422 and "NOPE" in text(r.text)


def test_applicant_sees_the_page_for_own_groups_only(world, client):
    stranger = world.api.make_user("applicant")
    html = Pages(client).login(stranger).get("/dashboard").text
    assert figure(html, "applications") == "0" and figure(html, "disbursed") == "Rp0"
    assert 'href="/dashboard"' in html
    html = Pages(client).login(world.applicant).get("/dashboard").text
    assert figure(html, "revenue") == "Rp20.000.000"
    assert 'name="region"' not in html  # applicants choose no region


def test_language_switch(world, client):
    pages = Pages(client).login(world.reviewer)
    indonesian = text(pages.get("/dashboard").text)
    assert "Dana per bulan" in indonesian
    pages.client.get("/lang/en?next=/dashboard", headers=HTML)
    english = text(pages.get("/dashboard").text)
    assert "Money by month" in english and "Dana per bulan" not in english
