"""Log-in, sign-up and log-out pages. They call the same services as the API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.auth import resets, services
from tkm.auth.api import registered_detail, reset_sent_detail
from tkm.auth.guards import client_address
from tkm.auth.sessions import previous_token, rotate_session_id
from tkm.core.errors import Problem
from tkm.core.i18n import _

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


class AuthPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(self, next: FromQuery[str | None] = None, changed: FromQuery[str | None] = None) -> Template:
        notice = _("Your password was changed. Log in with the new one.") if changed else ""
        return Template(
            "auth/login.html", context={"form": {}, "errors": {}, "next": _safe_next(next), "notice": notice}
        )

    @post("/login")
    async def login_submit(self, request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
        email, password = data.get("email", ""), data.get("password", "")
        next_url = _safe_next(data.get("next"))
        try:
            result = await services.login(
                email,
                password,
                address=client_address(request),
                user_agent=request.headers.get("user-agent", ""),
                replaces=previous_token(request),
            )
        except Problem as problem:
            return Template(
                "auth/login.html",
                status_code=problem.status,
                headers=problem.headers,
                context={"form": {"email": email}, "message": problem.detail, "errors": {}, "next": next_url},
            )
        rotate_session_id(request)
        request.set_session({"tid": result.token_id, "uid": result.user.id})
        return Redirect(next_url, status_code=303)

    @get("/register")
    async def register_page(self) -> Template:
        return Template("auth/register.html", context={"form": {}, "errors": {}})

    @post("/register")
    async def register_submit(self, request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
        form = {k: data.get(k, "") for k in ("email", "name", "phone")}
        try:
            await services.register(
                form["email"], form["name"], data.get("password", ""), form["phone"], address=client_address(request)
            )
        except Problem as problem:
            errors = {e.field: e.message for e in problem.errors}
            return Template(
                "auth/register.html",
                status_code=problem.status,
                headers=problem.headers,
                context={"form": form, "errors": errors, "message": problem.detail},
            )
        try:
            result = await services.login(
                form["email"],
                data.get("password", ""),
                address=client_address(request),
                replaces=previous_token(request),
            )
        except Problem:
            # The address already had an account with another password: its owner got a mail; the visitor is
            # sent to log in, with the sign-up's own words.
            return Template(
                "auth/login.html",
                context={"form": {"email": form["email"]}, "notice": registered_detail(), "errors": {}, "next": "/"},
            )
        rotate_session_id(request)
        request.set_session({"tid": result.token_id, "uid": result.user.id})
        return Redirect("/", status_code=303)

    @get("/password-reset")
    async def reset_page(self) -> Template:
        return Template("auth/reset_request.html", context={"form": {}, "errors": {}})

    @post("/password-reset")
    async def reset_submit(self, request: Request[Any, Any, Any], data: Form) -> Template:
        email = data.get("email", "")
        try:
            await resets.request_reset(email, address=client_address(request))
        except Problem as problem:
            return Template(
                "auth/reset_request.html",
                status_code=problem.status,
                headers=problem.headers,
                context={
                    "form": {"email": email},
                    "errors": {e.field: e.message for e in problem.errors},
                    "message": problem.detail,
                },
            )
        return Template("auth/reset_request.html", context={"form": {}, "errors": {}, "sent": reset_sent_detail()})

    @get("/password-reset/{token:str}")
    async def reset_link(self, token: FromPath[str]) -> Template:
        valid = len(token) <= 200 and await resets.link_is_valid(token)
        return Template(
            "auth/reset_confirm.html",
            status_code=200 if valid else 404,
            context={"token": token if valid else "", "errors": {}, "invalid": not valid},
        )

    @post("/password-reset/{token:str}")
    async def reset_confirm(
        self, request: Request[Any, Any, Any], token: FromPath[str], data: Form
    ) -> Template | Redirect:
        try:
            await resets.confirm_reset(token, data.get("password", ""), address=client_address(request))
        except Problem as problem:
            errors = {e.field: e.message for e in problem.errors}
            return Template(
                "auth/reset_confirm.html",
                status_code=problem.status,
                context={"token": token, "errors": errors, "invalid": "token" in errors},
            )
        request.clear_session()
        return Redirect("/login?changed=1", status_code=303)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        if user is not None:
            await services.logout(user, address=client_address(request))
        request.clear_session()
        return Redirect("/login", status_code=303)
