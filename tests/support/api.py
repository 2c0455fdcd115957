"""A thin helper over Litestar's TestClient: log in as a role, call services in the app's event loop."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.testing import TestClient

T = TypeVar("T")
PASSWORD = "Kata-Sandi-Uji-2020"
_counter = itertools.count(1)


class Api:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run an async service function in the app's own event loop (its DB pool lives there)."""

        async def _run() -> T:
            return await fn(*args, **kwargs)

        return self.client.blocking_portal.call(_run)

    def unique_email(self, prefix: str = "user") -> str:
        return f"{prefix}{next(_counter)}-{id(self) % 10000}@tkm.test"

    def make_user(
        self,
        role: str,
        regions: list[str] | None = None,
        *,
        email: str | None = None,
        name: str | None = None,
        phone: str = "",
        password: str = PASSWORD,
    ) -> dict[str, Any]:
        """Create a user through the service and log in; returns {"id", "email", "token", "headers", ...}."""
        from tkm.auth import services

        email = email or self.unique_email(role)
        user = self.call(
            services.create_user,
            None,
            email,
            name or f"{role.title()} {email[:6]}",
            password,
            role,
            list(regions or []),
            phone,
        )
        token = self.login(email, password)
        return {
            "id": user.id,
            "email": email,
            "role": role,
            "token": token,
            "password": password,
            "headers": {"Authorization": f"Bearer {token}"},
        }

    def login(self, email: str, password: str = PASSWORD) -> str:
        self.client.cookies.clear()  # a page test's session cookie would make this a form post needing CSRF
        response = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.client.cookies.clear()  # tests choose bearer or cookie explicitly
        return response.json()["token"]
