"""Accounts nobody else can lock (issue 13, item 3), on SQLite and PostgreSQL.

Throttling by account and address with growing delays, the owner's notice, a password reset by one-time
link, a sign-up that does not reveal who has an account, and sessions that a log-in replaces.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import PASSWORD

PROBLEM = "application/problem+json"
HTML = {"accept": "text/html"}
NEW_PASSWORD = "Sandi-Baru-Kelompok-77"


@pytest.fixture(scope="module")
def env(env):
    return {
        **env,
        "TKM_LOGIN_FREE_ATTEMPTS": "5",
        "TKM_LOGIN_BASE_DELAY": "30",
        "TKM_LOGIN_MAX_FAILURES_PER_ADDRESS": "12",
        "TKM_LOGIN_MAX_FAILURES": "5",
        "TKM_REGISTER_MAX_PER_ADDRESS": "3",
        "TKM_RESET_MAX_PER_ADDRESS": "4",
    }


@pytest.fixture(autouse=True)
def fresh_counts(api):
    """Every test starts with no attempts counted (the TestClient always calls from one address)."""
    from tkm.core import db

    api.call(db.execute, "DELETE FROM login_attempts")


def login(client, email, password=PASSWORD):
    client.cookies.clear()
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def login_from(api, address: str, email: str, password: str = PASSWORD) -> Any:
    """Log in through the service as if from ``address`` (the TestClient has one address only)."""
    from tkm.auth import services
    from tkm.core.errors import Problem

    try:
        return api.call(services.login, email, password, address=address)
    except Problem as problem:
        return problem


def notifications(api, prefix: str) -> list[dict[str, Any]]:
    from tkm.notifications.tables import Notification

    return api.call(
        Notification.select(Notification.key, Notification.recipient, Notification.body)
        .where(Notification.key.like(prefix + "%"))
        .order_by(Notification.id)
        .run
    )


# --- throttling ------------------------------------------------------------------------------------------


def test_wrong_passwords_from_one_address_do_not_lock_out_the_owner_elsewhere(client, api):
    user = api.make_user("applicant")
    statuses = [login(client, user["email"], f"Salah-{i}-xyzabc").status_code for i in range(8)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
    r = login(client, user["email"])  # the right password from the attacker's address waits too
    assert r.status_code == 429 and r.headers["content-type"].startswith(PROBLEM)
    assert 0 < int(r.headers["retry-after"]) <= 30
    # From another address, the right password goes straight in.
    result = login_from(api, "198.51.100.7", user["email"])
    assert getattr(result, "token", None), result


def test_failures_from_many_addresses_never_hold_up_the_right_password(client, api):
    user = api.make_user("applicant")
    for n in range(6):
        for i in range(6):
            login_from(api, f"203.0.113.{n}", user["email"], f"Salah-{i}-abcxyz")
    result = login_from(api, "192.0.2.50", user["email"])
    assert getattr(result, "token", None), result


def test_the_delay_doubles_with_each_further_failure(api, settings):
    from tkm.auth import throttle

    email, address = "ganda@tkm.test", "198.51.100.9"
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for i in range(5):
        api.call(throttle.record, "login", email, address, False, t0 + timedelta(seconds=i))
    last = t0 + timedelta(seconds=4)
    assert api.call(throttle.login_wait, settings, email, address, last) == 30
    expected = [60, 120, 240]
    for wait in expected:
        last = last + timedelta(seconds=31 if wait == 60 else wait // 2 + 1)
        api.call(throttle.record, "login", email, address, False, last)
        assert api.call(throttle.login_wait, settings, email, address, last) == wait
    # A success of that account from that address clears the count; other addresses never had one.
    api.call(throttle.record, "login", email, address, True, last + timedelta(seconds=1))
    assert api.call(throttle.login_wait, settings, email, address, last + timedelta(seconds=2)) == 0
    assert throttle.backoff(40, 5, 30, 900) == 900  # never longer than the window


def test_a_success_does_not_reset_the_address_count_for_other_accounts(client, api):
    """The attack of issue 13: guess at others' accounts, log into one's own now and then to reset."""
    own = api.make_user("applicant")
    victims = [api.make_user("applicant") for _ in range(4)]
    attacker = "198.51.100.66"
    for round_ in range(3):
        for victim in victims:
            assert login_from(api, attacker, victim["email"], f"Tebak-{round_}-qwe").status == 401
        if round_ < 2:
            assert getattr(login_from(api, attacker, own["email"]), "token", None)  # logs into their own account
    # 12 failures from this address: the next guess waits, although the address just logged in fine.
    refused = login_from(api, attacker, victims[0]["email"], "Tebak-lagi-qwe")
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    # The victim, from their own address, is not affected.
    assert getattr(login_from(api, "192.0.2.9", victims[0]["email"]), "token", None)


def test_the_owner_gets_one_notice_after_repeated_failures(client, api):
    user = api.make_user("applicant")
    for i in range(4):
        login_from(api, f"203.0.113.{100 + i}", user["email"], "Salah-sandi-123")
    assert notifications(api, f"login-failures-{user['id']}-") == []
    for i in range(4, 9):
        login_from(api, f"203.0.113.{100 + i}", user["email"], "Salah-sandi-123")
    notes = notifications(api, f"login-failures-{user['id']}-")
    assert len(notes) == 1, notes  # one per window, not one per failure
    assert notes[0]["recipient"] == user["email"] and "203.0.113.104" in notes[0]["body"]


# --- password reset ---------------------------------------------------------------------------------------


def reset_token(api, email: str) -> str:
    notes = [n for n in notifications(api, "password-reset-") if n["recipient"] == email]
    assert notes, "no reset mail"
    return re.search(r"/password-reset/([A-Za-z0-9_-]+)", notes[-1]["body"]).group(1)


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(client, api):
    user = api.make_user("applicant")
    known = client.post("/api/v1/auth/password-reset", json={"email": user["email"]})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "tidak-ada@tkm.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [n["recipient"] for n in notifications(api, "password-reset-")].count(user["email"]) == 1
    assert not [n for n in notifications(api, "password-reset-") if n["recipient"] == "tidak-ada@tkm.test"]


def test_reset_link_sets_a_strong_password_once_and_ends_every_session(client, api):
    from tkm.auth.services import token_hash
    from tkm.auth.tables import PasswordReset

    user = api.make_user("reviewer", ["13"])
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 200
    assert client.post("/api/v1/auth/password-reset", json={"email": user["email"]}).status_code == 202
    token = reset_token(api, user["email"])
    stored = api.call(PasswordReset.select().where(PasswordReset.user == user["id"]).first().run)
    assert stored["token_hash"] == token_hash(token) and token not in str(stored)  # kept hashed only
    assert stored["expires_at"] - stored["created_at"] == timedelta(minutes=30)

    weak = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "password123"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    ok = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert ok.status_code == 200, ok.text
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 401  # old token ended
    again = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD + "x"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "token"
    assert login(client, user["email"]).status_code == 401
    assert login(client, user["email"], NEW_PASSWORD).status_code == 200
    assert notifications(api, "password-changed-")


def test_reset_link_expires_after_thirty_minutes(client, api):
    from tkm.auth.tables import PasswordReset

    user = api.make_user("applicant")
    client.post("/api/v1/auth/password-reset", json={"email": user["email"]})
    token = reset_token(api, user["email"])
    past = datetime.now(UTC) - timedelta(seconds=1)
    api.call(PasswordReset.update({PasswordReset.expires_at: past}).where(PasswordReset.user == user["id"]).run)
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "token"
    assert login(client, user["email"]).status_code == 200  # the password did not change


def test_reset_requests_are_limited_per_address(client, api):
    statuses = [
        client.post("/api/v1/auth/password-reset", json={"email": f"x{i}@tkm.test"}).status_code for i in range(5)
    ]
    assert statuses == [202] * 4 + [429]
    r = client.post("/api/v1/auth/password-reset", json={"email": "y@tkm.test"})
    assert r.headers["content-type"].startswith(PROBLEM) and int(r.headers["retry-after"]) > 0


def csrf_from(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("id", ("Lupa kata sandi?", "Kirim tautan")), ("en", ("Forgot your password?", "Send the link"))],
)
def test_reset_pages_in_both_languages(client, api, lang, words):
    user = api.make_user("applicant")
    client.cookies.clear()
    login_page = client.get(f"/login?lang={lang}", headers=HTML)
    assert 'href="/password-reset"' in login_page.text and words[0] in login_page.text
    page = client.get(f"/password-reset?lang={lang}", headers=HTML)
    assert words[1] in page.text
    sent = client.post(
        f"/password-reset?lang={lang}", data={"email": user["email"], "_csrf_token": csrf_from(page.text)}, headers=HTML
    )
    assert sent.status_code == 200 and "30" in sent.text
    token = reset_token(api, user["email"])
    form = client.get(f"/password-reset/{token}?lang={lang}", headers=HTML)
    assert form.status_code == 200 and 'name="password"' in form.text
    done = client.post(
        f"/password-reset/{token}",
        data={"password": NEW_PASSWORD, "_csrf_token": csrf_from(form.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/login")
    assert client.get(f"/password-reset/{token}", headers=HTML).status_code == 404  # spent


# --- sign-up -------------------------------------------------------------------------------------------


def signup(client, email, password=PASSWORD):
    body = {"email": email, "name": "Siti Rahma", "password": password, "phone": "081234567890"}
    return client.post("/api/v1/auth/register", json=body)


def test_signup_answers_the_same_for_a_taken_address_and_mails_its_owner(client, api):
    from tkm.auth.tables import User

    owner = api.make_user("applicant")
    new = signup(client, api.unique_email("baru"))
    taken = signup(client, owner["email"], password="Sandi-Lain-Sekali-9")
    assert new.status_code == taken.status_code == 201
    strip = lambda body: {k: v for k, v in body.items() if k not in ("email",)}  # noqa: E731
    assert strip(new.json()) == strip(taken.json())
    assert api.call(User.count().where(User.email == owner["email"]).run) == 1
    assert login(client, owner["email"]).status_code == 200  # the owner's password is untouched
    mails = notifications(api, f"signup-existing-{owner['id']}-")
    assert len(mails) == 1 and mails[0]["recipient"] == owner["email"]


def test_signups_are_limited_per_address(client, api):
    statuses = [signup(client, api.unique_email("burst")).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    r = signup(client, api.unique_email("burst"))
    assert r.headers["content-type"].startswith(PROBLEM) and int(r.headers["retry-after"]) > 0
    assert r.json()["status"] == 429


# --- sessions and CSRF ----------------------------------------------------------------------------------


def form_login(client, email: str) -> Any:
    page = client.get("/login", headers=HTML)
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/", "_csrf_token": csrf_from(page.text)},
        headers=HTML,
        follow_redirects=False,
    )


def test_logging_in_as_b_ends_as_session_in_that_browser(client, api):
    a, b = api.make_user("applicant"), api.make_user("reviewer", ["13"])
    client.cookies.clear()
    assert form_login(client, a["email"]).status_code == 303
    session_a = client.cookies.get("tkm_session")
    assert client.get("/api/v1/me").json()["email"] == a["email"]
    assert form_login(client, b["email"]).status_code == 303
    session_b = client.cookies.get("tkm_session")
    assert session_b and session_b != session_a
    assert client.get("/api/v1/me").json()["email"] == b["email"]
    # A's old cookie, replayed, is worth nothing: its session and its token are gone.
    client.cookies.clear()
    client.cookies.set("tkm_session", session_a)
    assert client.get("/api/v1/me").status_code == 401


def test_a_csrf_token_from_another_session_is_refused(client, api):
    a, b = api.make_user("applicant"), api.make_user("applicant")
    client.cookies.clear()
    form_login(client, a["email"])
    token_a = re.search(r'"x-csrftoken": "([^"]+)"', client.get("/", headers=HTML).text).group(1)
    session_a = client.cookies.get("tkm_session")
    assert token_a

    client.cookies.clear()
    form_login(client, b["email"])
    token_b = re.search(r'"x-csrftoken": "([^"]+)"', client.get("/", headers=HTML).text).group(1)
    # B's browser, with A's token in both the cookie and the header (a planted double-submit), is refused.
    client.cookies.set("csrftoken", token_a)
    r = client.post("/api/v1/auth/logout", headers={"x-csrftoken": token_a})
    assert r.status_code == 403
    assert client.get("/api/v1/me").json()["email"] == b["email"]
    client.cookies.set("csrftoken", token_b)
    assert client.post("/api/v1/auth/logout", headers={"x-csrftoken": token_b}).status_code == 204
    assert session_a != client.cookies.get("tkm_session")


def test_signup_page_with_a_taken_address_says_the_same_and_logs_nobody_in(client, api):
    from tkm.auth.tables import User

    owner = api.make_user("applicant")
    client.cookies.clear()
    page = client.get("/register", headers=HTML)
    form = {
        "name": "Penyusup",
        "email": owner["email"],
        "phone": "081234567890",
        "password": "Sandi-Lain-Sekali-9",
        "_csrf_token": csrf_from(page.text),
    }
    r = client.post("/register", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 200 and "Kami telah mengirim e-mail" in r.text  # the sign-up's own words
    assert client.get("/api/v1/me").status_code == 401
    assert api.call(User.count().where(User.email == owner["email"]).run) == 1
    assert notifications(api, f"signup-existing-{owner['id']}-")
