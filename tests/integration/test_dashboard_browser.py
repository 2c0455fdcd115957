"""The dashboard page in Debian's chromium: fits a 360 px screen, charts are drawn, the filter works by keyboard.

A real ``tkm serve`` on the module's SQLite database (the layout does not depend on the engine).
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.support.api import PASSWORD, Api
from tests.support.factories import World
from tkm.testing import external, processes
from tkm.testing.time_travel import approve_in_the_past, period

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def site(module_client, env, tmp_path_factory) -> Iterator[tuple[str, World]]:
    w = World(Api(module_client))
    for name, months, revenue in (("Kelompok Masker", 2, 18_000_000), ("Kelompok Sabun", 1, 7_500_000)):
        app = w.to_state(w.new_application(group=w.make_group(w.applicant, name=name))["id"], "active")
        approve_in_the_past(w.api, app["id"], months)
        w.pay_all(app["id"])
        w.accepted_report(
            app["id"],
            period=period(months),
            production=[{"product": "masker", "unit": "pcs", "quantity": 5000}],
            sales=[{"product": "masker", "quantity": 4500, "revenue": revenue}],
            expenses=[
                {"category": "raw_materials", "amount": 4_000_000, "source": "grant", "component": "capital"},
                {"category": "equipment", "amount": revenue // 4, "source": "sales"},
            ],
            workers=10 + months,
        )
    proc, url = processes.start_server(env, tmp_path_factory.mktemp("dashboard-web"))
    try:
        yield url, w
    finally:
        proc.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """A browser for one test: Playwright's sync API keeps an event loop on this thread while it is open, so it
    must be closed before the next module's database fixtures run."""
    path = external.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def open_dashboard(browser: Any, url: str, email: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(base_url=url, viewport=viewport, locale="id-ID")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(lambda u: not u.endswith("/login"))
    page.goto("/dashboard")
    return page


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # the layout does not depend on the engine
def test_phone_width_keyboard_and_charts(site):
    url, w = site
    with chromium() as browser:
        check_pages(browser, url, w)


def check_pages(browser: Any, url: str, w: World) -> None:
    page = open_dashboard(browser, url, w.reviewer["email"], {"width": 360, "height": 740})
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "dashboard-phone.png"), full_page=True)
    assert page.get_by_role("heading", name="Dasbor").is_visible()
    # Nothing makes the page wider than the phone (tables scroll inside their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    box = charts.first.bounding_box()
    assert box and 0 < box["width"] <= 360 and box["height"] > 50
    assert page.get_by_role("img", name="Dana per bulan").count() == 1

    # Keyboard only: tab to the programme filter, choose, tab to the button and press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-programme":
            break
    else:
        pytest.fail("the programme filter is not reachable with Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-region"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Tampilkan"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "programme=" in u)
    assert page.locator("#f-programme").input_value() != ""  # the page came back with the chosen programme

    desktop = open_dashboard(browser, url, w.reviewer["email"], {"width": 1280, "height": 900})
    desktop.screenshot(path=str(shots / "dashboard-desktop.png"), full_page=True)
    assert "Rp" in desktop.locator('[data-figure="disbursed"]').inner_text()
