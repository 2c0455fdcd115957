"""Browser tests: a real `tkm serve` on a fresh SQLite database, driven by Debian's chromium through Playwright.

Never a downloaded browser: ``executable_path`` points at the system chromium
(``tkm.testing.external.require_chromium`` skips locally without it and fails
in CI). Screenshots go to ``test-artifacts/screenshots/``; with
``TKM_SCREENSHOTS=1`` (``make screenshots``) also to ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, settings_env
from tests.support.api import PASSWORD
from tkm.testing import external, processes
from tkm.testing.builders import programme_body

ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def e2e_env(sqlite_database: Any, tmp_path_factory: pytest.TempPathFactory, secret_key: str) -> dict[str, str]:
    return settings_env(sqlite_database, tmp_path_factory.mktemp("e2e-data"), secret_key)


@pytest.fixture(scope="module")
def server(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running `tkm serve` (stopped after the module)."""
    proc, url = processes.start_server(e2e_env, tmp_path_factory.mktemp("e2e-logs"))
    try:
        yield url
    finally:
        proc.stop()


def _post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Staff:
    """Users made before the journey with `tkm user add` (the CLI), and an open programme made by the admin."""

    def __init__(self, server: str, env: dict[str, str]) -> None:
        tag = secrets.token_hex(3)
        self.password = PASSWORD
        self.reviewer = self._add(env, f"verifikator-{tag}@tkm.test", "reviewer", "Rina Verifikator", "13")
        self.approver = self._add(env, f"kepala-{tag}@tkm.test", "approver", "Budi Kepala Dinas", "13")
        # Two finance officers: the one who requests a tranche may not authorize it.
        self.finance = self._add(env, f"bendahara-{tag}@tkm.test", "finance", "Sari Bendahara", "13")
        self.finance2 = self._add(env, f"ppspm-{tag}@tkm.test", "finance", "Joko Pejabat SPM", "13")
        admin = self._add(env, f"admin-{tag}@tkm.test", "admin", "Admin TKM", None)
        token = _post_json(server + "/api/v1/auth/login", {"email": admin, "password": self.password})["token"]
        body = programme_body(name="TKM Pemula Sumatera Barat 2020")
        self.programme = _post_json(server + "/api/v1/programmes", body, token)

    def _add(self, env: dict[str, str], email: str, role: str, name: str, region: str | None) -> str:
        args = ["user", "add", email, "--role", role, "--name", name]
        if region:
            args += ["--region", region]
        result = processes.run_tkm(args, env, input_text=self.password + "\n")
        assert result.returncode == 0, result.stderr
        return email


@pytest.fixture(scope="module")
def worker(server: str, e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Celery worker on the server's broker and database: it renders the letters the journey downloads."""
    proc = processes.start_worker(e2e_env, tmp_path_factory.mktemp("e2e-worker"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def staff(server: str, e2e_env: dict[str, str]) -> Staff:
    return Staff(server, e2e_env)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = external.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=PHONE, locale="id-ID")``: a page in its own browser context (own cookies)."""
    contexts: list[Any] = []
    failures = ARTIFACTS / "e2e-failures"
    refused: list[str] = []  # what the Content-Security-Policy blocked: every page must work under it

    def make(viewport: dict[str, int] | None = None, locale: str = "id-ID") -> Any:
        context = browser.new_context(base_url=server, viewport=viewport or DESKTOP, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on(
            "console",
            lambda msg: refused.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None,
        )
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    for i, context in enumerate(contexts):
        if report is not None and report.failed:
            failures.mkdir(parents=True, exist_ok=True)
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(failures / f"{request.node.name}-{i}-{j}.png"), full_page=True)
        context.close()
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, "rep_" + report.when, report)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/screenshots (and docs/screenshots with TKM_SCREENSHOTS=1)."""
    target = ARTIFACTS / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    if os.environ.get("TKM_SCREENSHOTS") == "1":
        from PIL import Image

        # A 128-colour palette keeps UI screenshots sharp at a third of the size (they live in git).
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(target) as image:
            palette = image.convert("RGB").quantize(
                colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
            palette.save(DOCS_SCREENSHOTS / target.name, format="PNG", optimize=True)
    return target
