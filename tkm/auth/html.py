"""Log-in, sign-up and log-out pages. They call the same services as the API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from tkm.auth import services
from tkm.auth.guards import client_address
from tkm.auth.sessions import rotate_session_id
from tkm.core.errors import Problem

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


class AuthPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(self, next: FromQuery[str | None] = None) -> Template:
        return Template("auth/login.html", context={"form": {}, "errors": {}, "next": _safe_next(next)})

    @post("/login")
    async def login_submit(self, request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
        email, password = data.get("email", ""), data.get("password", "")
        next_url = _safe_next(data.get("next"))
        try:
            result = await services.login(
                email, password, address=client_address(request), user_agent=request.headers.get("user-agent", "")
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
            result = await services.login(form["email"], data.get("password", ""), address=client_address(request))
        except Problem as problem:
            errors = {e.field: e.message for e in problem.errors}
            return Template(
                "auth/register.html",
                status_code=problem.status,
                context={"form": form, "errors": errors, "message": problem.detail},
            )
        rotate_session_id(request)
        request.set_session({"tid": result.token_id, "uid": result.user.id})
        return Redirect("/", status_code=303)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        if user is not None:
            await services.logout(user, address=client_address(request))
        request.clear_session()
        return Redirect("/login", status_code=303)
