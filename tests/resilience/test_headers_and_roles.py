"""Headers of every answer and who may read what (issue 13, item 6), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.factories import World
from tests.support.pages import Pages

HTML = {"accept": "text/html"}
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(scope="module")
def world(module_client: Any) -> World:
    from tests.support.api import Api

    w = World(Api(module_client))
    w.auditor = w.api.make_user("auditor")
    app_id = w.new_application()["id"]
    w.to_state(app_id, "active")
    w.app_id = app_id
    return w


def assert_strict_page_headers(response: Any) -> None:
    policy = response.headers.get("content-security-policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("script-src") == "'self'", policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_every_kind_of_html_answer_carries_the_strict_policy(world: World, client: Any) -> None:
    client.cookies.clear()
    for url in ("/login", "/register", "/password-reset", "/verify", "/no-such-page"):
        r = client.get(url, headers=HTML)
        assert r.headers["content-type"].startswith("text/html"), url
        assert_strict_page_headers(r)
    pages = Pages(client).login(world.applicant)
    for url in ("/", f"/applications/{world.app_id}", f"/applications/{world.app_id}/funds-trail", "/groups"):
        r = pages.get(url)
        assert r.status_code == 200, url
        assert_strict_page_headers(r)
        # Nothing inline that the policy would block: no script bodies, no handlers, no style attributes.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), url
        assert not re.search(r"\son[a-z]+\s*=", r.text), url
        assert not re.search(r"\sstyle\s*=", r.text), url
        assert '"allowEval": false' in r.text  # htmx is told not to evaluate anything


def test_json_and_files_are_not_sniffed_or_framed(world: World, client: Any) -> None:
    for url in ("/api/v1/me", "/static/css/app.css", "/schema/openapi.json"):
        r = client.get(url, headers=world.applicant["headers"])
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["x-frame-options"] == "DENY", url


def test_no_template_has_inline_script_or_handlers() -> None:
    for path in TEMPLATES.rglob("*.html"):
        if "letters" in path.parts:
            continue  # PDFs, never served as pages
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text), path
        assert not re.search(r"\sstyle\s*=", text), path


def test_applicants_may_not_read_offices_staff_may(world: World) -> None:
    r = world.get("/api/v1/offices", world.applicant)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    code = world.get("/api/v1/offices", world.admin).json()[0]["code"]
    assert world.get(f"/api/v1/offices/{code}", world.applicant).status_code == 403
    for user in (world.reviewer, world.finance, world.auditor, world.admin):
        r = world.get("/api/v1/offices", user)
        assert r.status_code == 200 and "signatories" in r.json()[0]


def test_only_finance_downloads_the_payment_batch_and_the_refusal_says_so(world: World) -> None:
    assert world.get("/api/v1/payment-batches?format=csv", world.finance).status_code == 200
    for user in (world.admin, world.auditor, world.reviewer, world.applicant):
        r = world.client.get("/api/v1/payment-batches?format=csv", headers={**user["headers"], "accept-language": "en"})
        assert r.status_code == 403, user["role"]
        assert r.json()["detail"] == "Only finance staff read payment batches (they hold bank account numbers)."


def test_account_numbers_in_the_tranche_queue_are_for_finance_only(world: World) -> None:
    number = world.group["bank_account"]["number"]
    as_finance = world.get("/api/v1/tranches", world.finance).json()["items"]
    assert as_finance and {t["bank_account"]["number"] for t in as_finance} == {number}
    for user in (world.admin, world.auditor, world.reviewer):
        items = world.get("/api/v1/tranches", user).json()["items"]
        assert items and all(t["bank_account"]["number"] == "•" * (len(number) - 4) + number[-4:] for t in items)


def test_auditors_and_admins_issue_no_funds_trail_letter(world: World, client: Any) -> None:
    from tkm.documents.tables import Document

    def count() -> int:
        return world.api.call(Document.count().where(Document.kind == "funds_trail").run)

    before = count()
    for user in (world.auditor, world.admin):
        url = f"/api/v1/applications/{world.app_id}/funds-trail?format=pdf"
        r = world.get(url, user, follow_redirects=False)
        assert r.status_code == 403, (user["role"], r.text)
        assert world.get(f"/api/v1/applications/{world.app_id}/funds-trail?format=csv", user).status_code == 200
    assert count() == before  # no number was taken
    r = world.get(f"/api/v1/applications/{world.app_id}/funds-trail?format=pdf", world.finance, follow_redirects=False)
    assert r.status_code in (202, 303) and count() == before + 1
    page = Pages(client).login(world.auditor).get(f"/applications/{world.app_id}/funds-trail")
    assert page.status_code == 200 and "/funds-trail/pdf" not in page.text  # no button that would be refused
