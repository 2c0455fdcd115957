"""Schemathesis over the live OpenAPI of a real ``tkm serve`` (PostgreSQL), as admin and as applicant.

Every operation at ``TKM_FUZZ_EXAMPLES`` (default 100) examples in every phase (examples, coverage, fuzzing,
stateful through the links schemathesis infers from the document): 0 server errors, 0 response-schema
violations, 0 undocumented status codes or content types. The command each run uses is printed, and its
JUnit report kept in ``test-artifacts/schemathesis/``; docs/reliability.md has the figures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ARTIFACTS, settings_env
from tkm.testing import processes
from tkm.testing.builders import budget, members, plan, programme_body
from tkm.testing.samples import jpeg, pdf

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PASSWORD = "Kata-Sandi-Uji-2020"
EXAMPLES = int(os.environ.get("TKM_FUZZ_EXAMPLES", "100"))
CHECKS = (
    "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,"
    "problems_in_words"  # tests/resilience/fuzz_hooks.py: every 4xx is problem+json, no Python type names
)
ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


@pytest.fixture(scope="module")
def installation(postgres_database, tmp_path_factory, secret_key) -> Iterator[tuple[str, dict[str, str]]]:
    env = settings_env(postgres_database, tmp_path_factory.mktemp("fuzz-data"), secret_key)
    migrated = processes.run_tkm(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    for email, role in (("admin@fuzz.test", "admin"), ("pemohon@fuzz.test", "applicant")):
        added = processes.run_tkm(["user", "add", email, "--role", role], env, input_text=PASSWORD + "\n")
        assert added.returncode == 0, added.stdout + added.stderr
    proc, url = processes.start_server(env, tmp_path_factory.mktemp("fuzz-web"))
    try:
        yield url, env
    finally:
        proc.stop()


def _login(http: httpx.Client, email: str) -> dict[str, str]:
    http.cookies.clear()  # bearer only: a session cookie would make every POST need the CSRF token
    r = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def tokens(installation) -> dict[str, dict[str, str]]:
    """Logged-in admin and applicant, with a programme, a group, an application and attachments to find."""
    url, _env = installation
    with httpx.Client(base_url=url, timeout=30) as http:
        admin, applicant = _login(http, "admin@fuzz.test"), _login(http, "pemohon@fuzz.test")
        programme = http.post("/api/v1/programmes", json=programme_body(), headers=admin)
        assert programme.status_code == 201, programme.text
        group = {
            "name": "Kelompok Uji Tahan",
            "region": "13.71",
            "address": "Jl. Sudirman 1, Padang",
            "products": ["masker", "sabun"],
            "bank_account": {"bank": "BRI", "number": "002101000123567", "holder": "Kelompok Uji Tahan"},
            "members": members(10, district="137101"),
        }
        made = http.post("/api/v1/groups", json=group, headers=applicant)
        assert made.status_code == 201, made.text
        body = {"programme": programme.json()["code"], "group_id": made.json()["id"], "business_plan": plan()}
        application = http.post("/api/v1/applications", json={**body, "budget": budget()}, headers=applicant)
        assert application.status_code == 201, application.text
        for kind, name, content in (("proposal", "proposal.pdf", pdf()), ("ktp", "ktp.jpg", jpeg())):
            r = http.post(
                f"/api/v1/applications/{application.json()['id']}/attachments",
                files={"file": (name, content)},
                data={"kind": kind},
                headers=applicant,
            )
            assert r.status_code == 201, r.text
    return {"admin": admin, "applicant": applicant}


def schemathesis(url: str, role: str, headers: dict[str, str], *extra: str) -> tuple[int, str, float, list[str]]:
    report = ARTIFACTS / "schemathesis" / role
    report.mkdir(parents=True, exist_ok=True)
    argv = [
        SCHEMATHESIS,
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "20200324",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        *[f"--header={k}: {v}" for k, v in headers.items()],
        *extra,
    ]
    started = time.monotonic()
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.resilience.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(argv, capture_output=True, text=True, cwd=report, env=env, timeout=3000, check=False)
    elapsed = time.monotonic() - started
    shown = [a if not a.startswith("--header=Authorization") else "--header=Authorization: Bearer $TOKEN" for a in argv]
    (report / "output.txt").write_text(result.stdout + result.stderr)
    return result.returncode, result.stdout + result.stderr, elapsed, shown


def _summary(output: str) -> dict[str, Any]:
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    return {
        "selected": int(selected.group(1)) if selected else -1,
        "total": int(selected.group(2)) if selected else -1,
        "tested": int(tested.group(1)) if tested else -1,
        "cases": int(cases.group(1)) if cases else -1,
    }


@pytest.mark.parametrize("role", ["admin", "applicant"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(installation, tokens, role):
    url, _env = installation
    # Logging out would end the run's own session; it is fuzzed on its own below.
    code, output, elapsed, argv = schemathesis(url, role, tokens[role], "--exclude-path", "/api/v1/auth/logout")
    figures = _summary(output)
    print(f"\nschemathesis as {role}: {figures} in {elapsed:.0f} s\n  {' '.join(argv)}")
    assert code == 0, output[-8000:]
    assert figures["tested"] == figures["selected"] == figures["total"] - 1, figures  # every operation but logout


def test_schemathesis_on_logout(installation, tokens):
    url, _env = installation
    code, output, elapsed, _argv = schemathesis(
        url, "logout", tokens["applicant"], "--include-path", "/api/v1/auth/logout"
    )
    figures = _summary(output)
    print(f"\nschemathesis on logout: {figures} in {elapsed:.0f} s")
    assert code == 0, output[-8000:]
    assert figures["tested"] == 1, figures
