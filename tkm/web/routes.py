"""The home page and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.core.i18n import LANGUAGES
from tkm.core.middleware import LANG_COOKIE


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = request.scope.get("user")
    if user is None:
        return Redirect("/login")
    return Template("home.html", context={"user": user})


@get("/lang/{code:str}", include_in_schema=False)
async def switch_language(request: Request[Any, Any, Any], code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = Redirect(target)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


ROUTES = [home, switch_language]
