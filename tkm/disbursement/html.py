"""Finance pages: the tranche queue, one tranche with its actions, bank statements; the tranches panel.

Handlers are thin: they call the same services as the JSON API (``services.act``
with an Idempotency-Key, ``bankfiles.apply_statement``). Every money-moving form
carries a key made when the form is rendered, so a second click on the same
form replays the first result instead of moving money again.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.applications.html import region_filter_options
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import Problem
from tkm.core.i18n import _
from tkm.core.pagination import PageParams, page_params
from tkm.disbursement import bankfiles, services
from tkm.documents import services as document_services
from tkm.programmes.services import list_programmes, today
from tkm.web import forms
from tkm.web.flash import flash
from tkm.web.labels import label

PER_PAGE = 50
FINANCE_ROLES = (Role.finance, Role.auditor, Role.admin)


def new_key() -> str:
    """An Idempotency-Key for one rendering of a money-moving form."""
    return uuid.uuid4().hex


async def tranche_letters(application_id: int) -> dict[int, list[dict[str, Any]]]:
    """The SPM and BAST letters of an application's tranches, by tranche id (access is the caller's job)."""
    return await document_services.tranche_letters(application_id)


async def tranches_panel(app: dict[str, Any], user: CurrentUser) -> dict[str, Any] | None:
    """The tranches section of the application page (nothing before the plan exists)."""
    tranches = await services.list_for_application(int(app["id"]), user)
    if not tranches:
        return None
    letters = await tranche_letters(int(app["id"]))
    for t in tranches:
        t["letters"] = letters.get(t["id"], [])
    return {
        "tranches": tranches,
        "application_id": app["id"],
        "links": user.role != Role.applicant,
        "paid": sum(t["amount"] for t in tranches if t["status"] in services.flow().states_with("paid")),
        "total": sum(t["amount"] for t in tranches),
    }


def read_action_form(action: str, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of a tranche action (the fields the flow file declares for it) and the raw text to show
    again on error (blank notes are left out)."""
    declared = services.flow().actions.get(action)
    raw = forms.values(form, tuple(f.name for f in declared.body) if declared else ())
    body = {k: v for k, v in raw.items() if v.strip() or k != "notes"}
    return body, raw


async def _tranche_page(
    user: CurrentUser,
    tranche_id: int,
    *,
    status_code: int = 200,
    state: dict[str, Any] | None = None,
) -> Template:
    tranche = await services.get_tranche(tranche_id, user)
    choices = await services.action_choices(tranche_id, user)
    group = await _group_of(int(tranche["application_id"]))
    if group:
        group = {**group, "number": services.account_number_for(user, group.get("number"))}
    letters = (await tranche_letters(int(tranche["application_id"]))).get(tranche_id, [])
    state = state or {}
    return Template(
        "disbursement/tranche.html",
        status_code=status_code,
        context={
            "tranche": tranche,
            "group": group,
            "choices": choices,
            "letters": letters,
            "state": state,
            # A key per form, made now; a form shown again after an error keeps the key it was sent with.
            "keys": {
                c["name"]: (state.get("key") if state.get("action") == c["name"] else None) or new_key()
                for c in choices
            },
            "today": today().isoformat(),
        },
    )


async def _group_of(application_id: int) -> dict[str, Any]:
    from tkm.applications.tables import Application

    row = (
        await Application.select(
            Application.id,
            Application.region,
            Application.group_id.name,
            Application.group_id.bank_name,
            Application.group_id.bank_account_number,
            Application.group_id.bank_account_holder,
        )
        .where(Application.id == application_id)
        .first()
    )
    assert row is not None  # get_tranche already loaded it
    return {
        "name": row["group_id.name"],
        "region": row["region"],
        "bank": row["group_id.bank_name"],
        "number": row["group_id.bank_account_number"],
        "holder": row["group_id.bank_account_holder"],
    }


class FinancePages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/finance", guards=[roles(*FINANCE_ROLES)])
    async def queue(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        programme: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
    ) -> Template:
        statuses = tuple(services.flow().states)
        status = status if status in statuses else ""
        params = page_params(page, PER_PAGE)
        items, total = await services.list_tranches(
            user, status or None, params.per_page, params.offset, region=region or None, programme=programme or None
        )
        counts = await services.status_counts(user)
        query = {k: v for k, v in (("status", status), ("region", region), ("programme", programme)) if v}
        programmes = (await list_programmes(PageParams(1, 200)))["items"]
        return Template(
            "disbursement/queue.html",
            context={
                "items": items,
                "result": params.envelope(items, total),
                "status": status,
                "region": region or "",
                "programme": programme or "",
                "tabs": [
                    {"state": s, "label": label(s, "tranche_status"), "count": counts.get(s, 0)} for s in statuses
                ],
                "all_count": sum(counts.values()),
                "filter_query": urlencode({k: v for k, v in query.items() if k != "status"}),
                "base_query": urlencode(query),
                "region_options": region_filter_options(user),
                "programme_options": [(p["code"], f"{p['name']} ({p['code']})") for p in programmes],
                "authorized_count": sum(counts.get(s, 0) for s in services.flow().states_with("payable")),
            },
        )

    @get("/tranches/{tranche_id:int}")
    async def tranche(self, user: NamedDependency[CurrentUser], tranche_id: FromPath[int]) -> Template:
        return await _tranche_page(user, tranche_id)

    @post("/tranches/{tranche_id:int}/actions/{action:str}", guards=[roles(Role.finance)])
    async def act(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        tranche_id: FromPath[int],
        action: FromPath[str],
    ) -> Template | Redirect:
        form = await request.form()
        body, raw = read_action_form(action, form)
        key = str(form.get("idempotency_key") or "") or None
        try:
            outcome = await services.act(tranche_id, action, user, body, key)
        except Problem as problem:
            errors = forms.FormErrors.from_problem(problem, summary=_("Please check the marked answers."))
            state = {"action": action, "errors": errors, "values": raw, "key": key}
            return await _tranche_page(user, tranche_id, status_code=problem.status, state=state)
        moved = outcome.body
        if outcome.replayed:
            flash(request, _("This was already done (the form was sent twice); nothing moved again."), kind="warn")
        else:
            flash(
                request,
                _(
                    "%(action)s: done. The tranche is now: %(status)s.",
                    action=label(action, "tranche_action"),
                    status=label(moved["status"], "tranche_status"),
                ),
            )
        return Redirect(f"/tranches/{tranche_id}", status_code=303)

    @get("/finance/statements", guards=[roles(Role.finance)])
    async def statement_form(self, user: NamedDependency[CurrentUser]) -> Template:
        return Template("disbursement/statement.html", context={"errors": forms.FormErrors(), "result": None})

    @post("/finance/statements", guards=[roles(Role.finance)])
    async def statement(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Template:
        form = await request.form()
        try:
            upload = forms.chosen_file(form)
            try:
                raw = await upload.read(bankfiles.MAX_STATEMENT_BYTES + 1)
            finally:
                await upload.close()
            result = await bankfiles.apply_statement(user, raw)
        except Problem as problem:
            errors = forms.FormErrors(problem.errors, problem.detail if not problem.errors else "")
            return Template(
                "disbursement/statement.html",
                status_code=problem.status,
                context={"errors": errors, "result": None},
            )
        return Template(
            "disbursement/statement.html",
            context={"errors": forms.FormErrors(), "result": result, "filename": upload.filename},
        )
