"""The access matrix: every route of the app's route table × role × own / other region / other owner.

The expectations are declared once, per route, in ``policies.py``; a route missing there fails the test,
so a new route cannot be left out. One SQLite database, seeded once through the API; every call carries
an empty body, so what is measured is the door (401 / 403 / 404 or let in), never a change of data.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.resilience.policies import POLICIES, RELATIONS, ROLES
from tests.support.factories import World
from tkm.testing.builders import budget
from tkm.testing.samples import PNG_BYTES
from tkm.testing.time_travel import period

HTML = {"accept": "text/html"}
PARAM = re.compile(r"\{(\w+):(\w+)\}")


@pytest.fixture(scope="module")
def database(sqlite_database):
    return sqlite_database  # one database is enough: the matrix tests the doors, not the engines


@pytest.fixture(scope="module")
def env(env):
    limits = ("REGISTER_MAX_PER_ADDRESS", "RESET_MAX_PER_ADDRESS", "LOGIN_FREE_ATTEMPTS")
    limits += ("LOGIN_MAX_FAILURES_PER_ADDRESS",)
    return {**env, **{f"TKM_{name}": "100000" for name in limits}}


def http_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method not in ("HEAD", "OPTIONS"):
                found.append((method, route.path))
    return found


@pytest.fixture(scope="module")
def seeded(module_client: Any) -> dict[str, Any]:
    from tests.support.api import Api

    api = Api(module_client)
    w = World(api)
    w.auditor = api.make_user("auditor")
    w.other_applicant = api.make_user("applicant")
    w.make_group(w.other_applicant, name="Kelompok Tetangga")
    far = {role: api.make_user(role, ["31"]) for role in ("reviewer", "approver", "finance")}

    app_id = w.new_application()["id"]
    w.to_state(app_id, "active")
    w.accepted_report(app_id, period=period(0))
    record = w.app(app_id)
    lines = [line for line in budget(capital=11_000_000, daily_wage=70_000) if line["component"] != "marketing"]
    proposal = {"budget": lines, "reason": "Harga naik"}
    amendment = w.post(f"/api/v1/applications/{app_id}/amendments", w.applicant, proposal)
    assert amendment.status_code == 201, amendment.text
    recommended = w.post(f"/api/v1/amendments/{amendment.json()['id']}/actions/recommend", w.reviewer, {})
    assert recommended.status_code == 200, recommended.text
    tranches = w.get(f"/api/v1/applications/{app_id}/tranches", w.finance).json()
    documents = w.get(f"/api/v1/applications/{app_id}/documents", w.applicant).json()
    reports = w.get(f"/api/v1/applications/{app_id}/reports", w.applicant).json()
    offices = w.get("/api/v1/offices", w.admin).json()
    logo = module_client.put(
        f"/api/v1/offices/{offices[0]['code']}/logo",
        files={"file": ("logo.png", PNG_BYTES, "image/png")},
        headers={"Authorization": f"Bearer {w.admin['token']}"},
    )
    assert logo.status_code == 200, logo.text  # the logo route then has something to show
    values = {
        "group_id": w.group["id"],
        "application_id": app_id,
        "attachment_id": record["attachments"][0]["id"],
        "tranche_id": tranches[0]["id"],
        "report_id": (reports["items"] if isinstance(reports, dict) else reports)[0]["id"],
        "document_id": documents[0]["id"],
        "amendment_id": amendment.json()["id"],
        "token": "not-a-valid-token",
        "file_path": "css/app.css",
        "path": "openapi.json",
    }
    codes = {
        "/api/v1/regions/": "13",
        "/api/v1/programmes/": w.programme["code"],
        "/api/v1/offices/": offices[0]["code"],
        "/admin/offices/": offices[0]["code"],
        "verify/": documents[0]["verification_code"],
        "/lang/": "en",
    }
    # Actions that exist but cannot happen in the record's state: the door is tested, nothing moves.
    actions = {"/applications/": "withdraw", "/tranches/": "pay", "/reports/": "accept", "/amendments/": "recommend"}
    users = {
        ("applicant", "owner"): w.applicant,
        ("applicant", "other_owner"): w.other_applicant,
        ("auditor", "any"): w.auditor,
        ("admin", "any"): w.admin,
    }
    for role in ("reviewer", "approver", "finance"):
        users[(role, "own_region")] = getattr(w, role)
        users[(role, "other_region")] = far[role]
    return {"api": api, "values": values, "codes": codes, "actions": actions, "users": users}


def fill(path: str, seeded: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "code":
            return next(v for k, v in seeded["codes"].items() if k in path)
        if name == "action":
            return next(v for k, v in seeded["actions"].items() if k in path)
        if name not in seeded["values"]:
            raise AssertionError(f"{path}: no record seeded for {{{name}}}; add one in seeded()")
        return str(seeded["values"][name])

    return PARAM.sub(value, path)


def outcome(response: Any) -> str:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status == 401 or (300 <= status < 400 and "/login" in response.headers.get("location", "")):
        return "401"
    if status in (403, 404):
        return str(status)
    return "ok"


def call(client: Any, method: str, path: str, headers: dict[str, str], policy: Any) -> Any:
    client.cookies.clear()
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if policy.upload:
        kwargs["files"] = {"file": ("catatan.txt", b"bukan berkas yang diterima", "text/plain")}
        kwargs["data"] = {"kind": "other"}
    elif method in ("POST", "PATCH", "PUT"):
        if path.startswith("/api/"):
            kwargs["json"] = policy.body if policy.body is not None else {}
        else:
            kwargs["data"] = {}
    return client.request(method, path, **kwargs)


def test_every_route_has_a_declared_policy(app: Any) -> None:
    missing = [f"{m} {p}" for m, p in http_routes(app) if (m, p) not in POLICIES]
    assert not missing, "routes without a policy in tests/resilience/policies.py:\n" + "\n".join(missing)
    stale = [f"{m} {p}" for (m, p) in POLICIES if (m, p) not in set(http_routes(app))]
    assert not stale, "policies for routes that no longer exist:\n" + "\n".join(stale)


@pytest.mark.slow
def test_every_route_role_and_relation_gets_what_its_policy_says(app: Any, module_client: Any, seeded: dict) -> None:
    client, api = module_client, seeded["api"]
    client.cookies.clear()
    client.get("/login", headers=HTML)
    csrf = client.cookies.get("csrftoken")
    anonymous = {**HTML, "x-csrftoken": csrf, "cookie": f"csrftoken={csrf}"}
    wrong: list[str] = []
    calls = 0
    for method, template in http_routes(app):
        policy = POLICIES.get((method, template))
        if policy is None:
            continue  # reported by the test above
        path = fill(template, seeded)
        page = {} if template.startswith(("/api/", "/schema", "/health")) else HTML
        for role in ROLES:
            relations = RELATIONS[role] if (policy.scoped or policy.exceptions) else RELATIONS[role][:1]
            for relation in relations:
                if role == "anonymous":
                    headers = dict(anonymous)
                else:
                    user = seeded["users"][(role, relation)]
                    token = api.login(user["email"]) if policy.ends_login else user["token"]
                    headers = {**page, "Authorization": f"Bearer {token}"}
                response = call(client, method, path, headers, policy)
                calls += 1
                got, expected = outcome(response), policy.expect(role, relation)
                if got != expected:
                    wrong.append(
                        f"{method} {template} as {role}/{relation}: expected {expected}, got {got} "
                        f"({response.status_code} {response.text[:120]!r})"
                    )
    assert calls > 500
    assert not wrong, f"{len(wrong)} of {calls} calls differ from policies.py:\n" + "\n".join(wrong)
