"""Pages of budget amendments: the panel on the application page (amendments with their state and the
actions of the flow for the reviewer and the approver) and the applicant's form to propose one, prefilled
with the current budget. Handlers call the same services as the JSON API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tkm.amendments import services
from tkm.applications import access
from tkm.applications.html import BUDGET_FIELDS, _programme_caps, budget_view, row_edit
from tkm.applications.html import _component_options as component_options
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import Forbidden, Problem
from tkm.core.i18n import _
from tkm.programmes.services import programme_out
from tkm.programmes.tables import Programme
from tkm.web import forms
from tkm.web.flash import flash
from tkm.workflow import engine, loader


def _may_propose(app: dict[str, Any], user: CurrentUser) -> bool:
    return user.role == Role.applicant and loader.get(app["workflow"]).has(app["status"], "pays_out")


async def amendments_panel(app: dict[str, Any], user: CurrentUser) -> dict[str, Any] | None:
    """The amendments of an application, each with the flow's actions the caller may take now (or why not)."""
    amendments = await services.list_for_application(int(app["id"]), user)
    may_propose = _may_propose(app, user)
    if not amendments and not may_propose:
        return None
    for a in amendments:
        record, application = await services.load_for_action(int(a["id"]), user, False)
        a["actions"] = [
            {
                "name": action.name,
                "label": str(action.label),
                "style": action.style,
                "reason": refusal or "",
                "body": [f.name for f in action.body],
                "required": [f.name for f in action.body if f.required],
            }
            for action, refusal in await engine.choices("amendment", record, application, user)
        ]
    pending = any(a["status"] in services.flow().states_with("pending") for a in amendments)
    return {
        "amendments": amendments,
        "may_propose": may_propose and not pending,
        "application_id": app["id"],
    }


def _body(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "reason": data["reason"],
        "budget": [
            {
                "component": row["component"],
                "description": row["description"],
                "quantity": forms.int_or_text(row["quantity"]),
                "unit": row["unit"],
                "unit_cost": forms.int_or_text(row["unit_cost"]),
            }
            for row in data["budget"]
        ],
    }


async def _page(
    app: dict[str, Any], data: dict[str, Any], errors: forms.FormErrors, status_code: int = 200
) -> Template:
    programme = programme_out(await Programme.select().where(Programme.id == app["programme"]).first())
    held = await services.money(int(app["id"]))
    return Template(
        "amendments/form.html",
        context={
            "app": app,
            "form": data,
            "errors": errors,
            "components": component_options(),
            "budget_view": budget_view(data, programme),
            # The page's script checks the total against "max": for an amendment, the approved total.
            "caps": {**_programme_caps(programme), "max": sum(held["approved"].values())},
            "approved": held["approved"],
            "disbursed": held["disbursed"],
        },
        status_code=status_code,
    )


class AmendmentPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/applications/{application_id:int}/amendments/new", guards=[roles(Role.applicant)])
    async def new_page(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> Template:
        app = await access.load(application_id, user)
        if user.role != Role.applicant:
            raise Forbidden(_("Only the group's applicant proposes a budget amendment."))
        lines = await services.current_lines(application_id)
        data = {"reason": "", "budget": [{k: str(line[k]) for k in BUDGET_FIELDS} for line in lines]}
        return await _page(app, data, forms.FormErrors())

    @post("/applications/{application_id:int}/amendments/new", guards=[roles(Role.applicant)])
    async def create(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> Template | Redirect:
        app = await access.load(application_id, user)
        form = await request.form()
        data = {
            "reason": str(form.get("reason") or ""),
            "budget": forms.rows(form, "budget", BUDGET_FIELDS, text_fields=("description", "quantity", "unit_cost")),
            "products": [],
        }
        if row_edit(form, data):
            return await _page(app, data, forms.FormErrors())
        try:
            await services.propose(application_id, user, _body(data))
        except Problem as problem:
            return await _page(app, data, forms.FormErrors.from_problem(problem), status_code=problem.status)
        flash(request, _("The budget amendment is proposed; a reviewer will look at it."))
        return Redirect(f"/applications/{application_id}#amendments", status_code=303)

    # Roles of the flow's actions (recommend, approve, reject); the flow file says which action is whose.
    @post("/amendments/{amendment_id:int}/actions/{action:str}", guards=[roles(Role.reviewer, Role.approver)])
    async def act(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        amendment_id: FromPath[int],
        action: FromPath[str],
    ) -> Redirect:
        form = await request.form()
        body = {k: str(form.get(k)) for k in ("notes", "reasons") if str(form.get(k) or "").strip()}
        version = str(form.get("version") or "")
        amendment, _app = await services.load_for_action(amendment_id, user, False)
        try:
            await services.act(amendment_id, action, user, body, int(version) if version.isdigit() else None)
        except Problem as problem:
            flash(request, problem.detail, "error")
        else:
            flash(request, _("Done: %(action)s.", action=services.flow().action_label(action)))
        return Redirect(f"/applications/{amendment['application']}#amendments", status_code=303)
