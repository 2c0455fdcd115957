"""Sign-up, log-in, tokens, sessions, CSRF, throttling and the problem-details shape (SQLite and PostgreSQL)."""

import re

import pytest

from tests.support.api import PASSWORD

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def env(env):
    # Every sign-up here comes from the TestClient's one address; the per-address limit has its own tests.
    return {**env, "TKM_REGISTER_MAX_PER_ADDRESS": "1000"}


def register(client, email, password=PASSWORD, **extra):
    body = {"email": email, "name": "Siti Rahma", "password": password, "phone": "081234567890", **extra}
    return client.post("/api/v1/auth/register", json=body)


def audit_actions(api, **where):
    from tkm.core.tables import AuditEvent

    async def load():
        query = AuditEvent.select(AuditEvent.action, AuditEvent.actor, AuditEvent.object_id, AuditEvent.details)
        return await query.order_by(AuditEvent.seq).output(load_json=True)

    return api.call(load)


def test_register_makes_an_applicant_and_login_gives_token_and_cookie(client, api):
    email = api.unique_email("ketua")
    r = register(client, email)
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "applicant" and r.json()["email"] == email

    r = client.post("/api/v1/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["token"]
    session_cookie = r.cookies.get("tkm_session")
    assert session_cookie and "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=lax" in r.headers["set-cookie"].lower()

    me = client.get("/api/v1/me")  # cookie
    assert me.status_code == 200 and me.json()["email"] == email
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "applicant"

    actions = [e["action"] for e in audit_actions(api) if e["actor"] == email]
    assert "user.registered" in actions and "login" in actions


def test_self_signup_cannot_choose_a_role(client, api):
    r = register(client, api.unique_email(), role="admin")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"] == "role" for e in r.json()["errors"])


def test_malformed_json_is_a_400_problem(client):
    r = client.post(
        "/api/v1/auth/register", content=b'{"email": "a@b.co", ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    body = r.json()
    assert r.headers["content-type"].startswith(PROBLEM)
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == 400
    assert body["errors"][0]["field"] == "body"


def test_wrong_types_name_the_field(client):
    r = client.post("/api/v1/auth/register", json={"email": 42, "name": "x", "password": PASSWORD})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(("password", "why"), [("Ab1!xyz", "8"), ("password123", "common"), ("qwertyuiop", "common")])
def test_weak_password_is_422_on_the_password_field(client, api, password, why):
    r = register(
        client,
        api.unique_email(),
        password=password,
    )
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "password" in errors


def test_bad_email_and_phone_are_named(client):
    r = client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "name": " ", "password": PASSWORD, "phone": "12ab"}
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"email", "name", "phone"}


def test_duplicate_email_gets_the_same_answer_and_no_second_account(client, api):
    from tkm.auth.tables import User

    email = api.unique_email()
    first = register(client, email)
    again = register(client, email.upper())
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["id"] is None
    assert api.call(User.count().where(User.email == email).run) == 1


def test_wrong_password_and_unknown_email_look_the_same(client, api):
    email = api.unique_email()
    register(client, email)
    wrong = client.post("/api/v1/auth/login", json={"email": email, "password": "Salah-Sandi-2020"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@tkm.test", "password": "Salah-Sandi-2020"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    failed = [e for e in audit_actions(api) if e["action"] == "login.failed" and e["actor"] == email]
    assert failed, "a failed login is audited"


def test_twenty_wrong_passwords_in_a_row_are_throttled(client, api):
    email = api.unique_email()
    register(client, email)
    statuses = [
        client.post("/api/v1/auth/login", json={"email": email, "password": f"Salah-{i}-xyzabc"}).status_code
        for i in range(20)
    ]
    assert statuses[0] == 401
    assert 429 in statuses
    # once throttled, even the right password waits: the account is not guessable by timing the switch
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert any(e["action"] == "login.throttled" and e["actor"] == email for e in audit_actions(api))


def test_cookie_form_post_without_csrf_token_is_refused(client, api):
    user = api.make_user("applicant")
    client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert client.cookies.get("tkm_session")
    r = client.post("/logout", data={})
    assert r.status_code == 403
    r = client.post("/api/v1/auth/logout")  # cookie-authenticated API call, no token either
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    denied = [e for e in audit_actions(api) if e["action"] == "access.denied" and e["object_id"] == "POST /logout"]
    assert denied


def test_csrf_token_from_a_page_lets_the_cookie_caller_post(client, api):
    user = api.make_user("applicant")
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/login", data={"email": user["email"], "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get("/api/v1/me").json()["email"] == user["email"]
    # The token belongs to the session before log-in; the log-in hands over one of the new session.
    assert client.post("/api/v1/auth/logout", headers={"x-csrftoken": token}).status_code == 403
    token = re.search(r'"x-csrftoken": "([^"]+)"', client.get("/").text).group(1)
    r = client.post("/api/v1/auth/logout", headers={"x-csrftoken": token})
    assert r.status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_logout_revokes_the_bearer_token(client, api):
    user = api.make_user("reviewer", ["13"])
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=user["headers"]).status_code == 204
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 401


def test_admin_creates_staff_with_regions(client, api):
    admin = api.make_user("admin")
    body = {
        "email": api.unique_email("rev"),
        "name": "Budi",
        "password": PASSWORD,
        "role": "reviewer",
        "regions": ["13.71"],
    }
    r = client.post("/api/v1/users", json=body, headers=admin["headers"])
    assert r.status_code == 201 and r.json()["regions"] == ["13.71"] and r.json()["role"] == "reviewer"


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"role": "superuser"}, "role"), ({"regions": ["99.99"]}, "regions[0]"), ({"regions": []}, "regions")],
)
def test_admin_create_user_bad_input(client, api, patch, field):
    admin = api.make_user("admin")
    body = {
        "email": api.unique_email(),
        "name": "Budi",
        "password": PASSWORD,
        "role": "reviewer",
        "regions": ["13"],
        **patch,
    }
    r = client.post("/api/v1/users", json=body, headers=admin["headers"])
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_only_admin_creates_users(client, api):
    reviewer = api.make_user("reviewer", ["13"])
    body = {"email": api.unique_email(), "name": "X", "password": PASSWORD, "role": "admin"}
    r = client.post("/api/v1/users", json=body, headers=reviewer["headers"])
    assert r.status_code == 403
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 401


def test_unexpected_errors_are_500_problems_without_traces(app, client):
    from litestar import get

    @get("/api/v1/test-crash", include_in_schema=False)
    async def crash() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.register(crash)
    r = client.get("/api/v1/test-crash")
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    assert "secret internal detail" not in r.text and "Traceback" not in r.text


def test_openapi_is_served_without_a_cdn(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/auth/login" in paths and "/health" in paths
