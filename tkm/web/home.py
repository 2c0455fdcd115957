"""The home page and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.applications import services as application_services
from tkm.applications.html import role_states, state_labels
from tkm.auth.roles import Role
from tkm.core.i18n import LANGUAGES
from tkm.core.middleware import LANG_COOKIE
from tkm.core.pagination import PageParams
from tkm.groups import services as group_services

#: Where each role's work waits (the nav has the same entries).
QUEUES = {Role.reviewer: "/review", Role.approver: "/approvals"}


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template | Redirect:
    """A start page for the role: an applicant's groups and applications; staff see counts by status."""
    user = request.scope.get("user")
    if user is None:
        return Redirect("/login")
    context: dict[str, Any] = {"user": user}
    if user.role == Role.applicant:
        context["groups"] = (await group_services.list_groups(user, PageParams(1, 50)))["items"]
        context["applications"] = (await application_services.list_applications(user, PageParams(1, 50)))["items"]
    else:
        labels = state_labels()
        counts = await application_services.status_counts(user)
        queue = role_states(user.role, ("primary", "secondary"))
        context["counts"] = [{"state": s, "label": labels[s], "count": counts[s]} for s in labels if counts.get(s)]
        context["queue"] = {
            "href": QUEUES.get(user.role),
            "total": sum(counts.get(s, 0) for s in queue),
            "states": [{"state": s, "label": labels[s], "count": counts.get(s, 0)} for s in queue],
        }
    return Template("home.html", context=context)


@get("/lang/{code:str}", include_in_schema=False)
async def switch_language(request: Request[Any, Any, Any], code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = Redirect(target)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
