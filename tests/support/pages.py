"""Driving the HTML pages with the TestClient: log in through the form, post forms with the CSRF token."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.support.api import PASSWORD

HTML = {"accept": "text/html,application/xhtml+xml"}


class Pages:
    """One browser-like session (cookies) on the module's TestClient."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def login(self, user: dict[str, Any] | str, password: str = PASSWORD) -> Pages:
        email = user if isinstance(user, str) else user["email"]
        self.client.cookies.clear()
        self.client.get("/login", headers=HTML)
        r = self.client.post(
            "/login",
            data={"email": email, "password": password, "next": "/", "_csrf_token": self.csrf()},
            headers=HTML,
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return self

    def csrf(self) -> str:
        token = self.client.cookies.get("csrftoken")
        if token is None:
            self.client.get("/login", headers=HTML)
            token = self.client.cookies.get("csrftoken")
        assert token, "the CSRF cookie is set by any GET"
        return str(token)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers={**HTML, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]], *, csrf: bool = True, **kwargs: Any) -> Any:
        """POST a form (``files=`` makes it multipart); the CSRF token goes in the ``_csrf_token`` field."""
        items = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            items.append(("_csrf_token", self.csrf()))
        kwargs.setdefault("follow_redirects", False)
        headers = {**HTML, **kwargs.pop("headers", {})}
        form: dict[str, Any] = {}  # httpx form-encodes a dict (a list would be sent as a raw stream)
        for key, value in items:
            form.setdefault(key, []).append(value)
        return self.client.post(url, data=form, headers=headers, **kwargs)

    def follow(self, response: Any) -> Any:
        """GET the page a 303 points at (where the notice is shown)."""
        assert response.status_code in (302, 303), (response.status_code, text(response.text)[:2000])
        return self.get(response.headers["location"])


def text(html: str) -> str:
    """The visible text of a page, whitespace collapsed (good enough for assertions)."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def value_of(html: str, name: str) -> str | None:
    """The value="" of the input named ``name`` (None when there is no such input)."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\bname="' + re.escape(name) + '"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return unescape(match.group(1)) if match else ""
    return None


def textarea_of(html: str, name: str) -> str | None:
    match = re.search(r'<textarea\b[^>]*\bname="' + re.escape(name) + r'"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(match.group(1)) if match else None
