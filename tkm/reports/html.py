"""Monthly report pages: the applicant's form (production, sales, expenses as rows), corrections after a
revision request, the reviewer's queue with accept / request revision; the reports panel of an application.

Handlers read the form into the API's ``ReportIn`` and call the same services
(``submit``, ``correct``, ``review``); the services name the field of every error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.applications import access
from tkm.applications import services as application_services
from tkm.applications.html import region_filter_options
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import Forbidden, Problem
from tkm.core.i18n import _
from tkm.core.pagination import page_params
from tkm.programmes.schemas import COMPONENTS
from tkm.reports import services
from tkm.reports.schemas import ReportIn
from tkm.web import forms
from tkm.web.flash import flash
from tkm.web.labels import label
from tkm.workflow import loader

PLAIN_FIELDS = ("period", "workers", "wages_paid", "notes", "version")
LISTS = {
    "production": ("product", "unit", "quantity"),
    "sales": ("product", "quantity", "revenue"),
    "expenses": ("category", "source", "component", "amount"),
}
#: Which typed fields say a row is filled in (a row with only a category chosen is still empty).
ROW_TEXT = {
    "production": ("product", "unit", "quantity"),
    "sales": ("product", "quantity", "revenue"),
    "expenses": ("amount",),
}
STAFF = (Role.reviewer, Role.approver, Role.finance, Role.auditor, Role.admin)
PER_PAGE = 30


def read_form(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = forms.values(form, PLAIN_FIELDS)
    data["final"] = form.get("final") in ("on", "true", "1")
    for name, fields in LISTS.items():
        data[name] = forms.rows(form, name, fields, text_fields=ROW_TEXT[name])
    return data


def form_from_report(report: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: str(report.get(k, "")) for k in PLAIN_FIELDS}
    data["final"] = bool(report["final"])
    for name, fields in LISTS.items():
        data[name] = [{f: str(line.get(f) or "") for f in fields} for line in report[name]]
    return data


def blank_form(period: str) -> dict[str, Any]:
    return {
        **dict.fromkeys(PLAIN_FIELDS, ""),
        "period": period,
        "final": False,
        "production": [],
        "sales": [],
        "expenses": [],
    }


def row_edit(form: Any, data: dict[str, Any]) -> bool:
    """Without JavaScript, "add a line" and "remove" are submit buttons (``_add=sales``, ``_remove=sales:1``)."""
    add = str(form.get("_add") or "")
    if add in LISTS:
        data[add].append(dict.fromkeys(LISTS[add], ""))
        return True
    which, _sep, index = str(form.get("_remove") or "").partition(":")
    if which in LISTS and index.isascii() and index.isdigit() and len(index) < 5:
        if int(index) < len(data[which]):
            del data[which][int(index)]
        return True
    return False


def to_body(data: dict[str, Any]) -> dict[str, Any]:
    """The API body; numbers that do not parse go on as typed and the service names their field."""
    number = forms.int_or_text
    return {
        "period": data["period"].strip(),
        "production": [
            {"product": r["product"], "unit": r["unit"], "quantity": number(r["quantity"])} for r in data["production"]
        ],
        "sales": [
            {"product": r["product"], "quantity": number(r["quantity"]), "revenue": number(r["revenue"])}
            for r in data["sales"]
        ],
        "expenses": [
            {
                "category": r["category"],
                "source": r["source"] or None,
                # Only grant-funded spending names a component; a component left chosen on a sales line is dropped.
                "component": (r["component"] or None) if r["source"] == "grant" else None,
                "amount": number(r["amount"]),
            }
            for r in data["expenses"]
        ],
        "workers": number(data["workers"] or "0"),
        "wages_paid": number(data["wages_paid"] or "0"),
        "notes": data["notes"],
        "final": data["final"],
    }


def _ensure_rows(data: dict[str, Any]) -> None:
    for name, fields in LISTS.items():
        if not data[name]:
            data[name] = [dict.fromkeys(fields, "")]


def _form_page(
    app: dict[str, Any],
    data: dict[str, Any],
    errors: forms.FormErrors,
    *,
    report: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    _ensure_rows(data)
    return Template(
        "reports/form.html",
        status_code=status_code,
        context={
            "app": app,
            "form": data,
            "errors": errors,
            "report": report,
            "categories": [(c, label(c, "expense")) for c in services.EXPENSE_CATEGORIES],
            "sources": [(s, label(s, "source")) for s in services.SOURCES],
            "components": [("", "—"), *((c, label(c, "component")) for c in COMPONENTS)],
            "first_period": services.period_of(app["approved_at"]) if app.get("approved_at") else "",
            "current_period": services.current_period(),
        },
    )


async def _application(application_id: int, user: CurrentUser) -> dict[str, Any]:
    app = await application_services.get_application(application_id, user)
    row = await access.load(application_id, user)
    app["approved_at"] = row["approved_at"]
    return app


async def _detail_page(
    user: CurrentUser, report_id: int, *, status_code: int = 200, state: dict[str, Any] | None = None
) -> Template:
    report = await services.get_report(report_id, user)
    app = await application_services.get_application(int(report["application_id"]), user)
    flow = services.flow()
    may_review = flow.offers("accept", report["status"], user.role)
    may_correct = flow.offers("resubmit", report["status"], user.role)
    return Template(
        "reports/detail.html",
        status_code=status_code,
        context={
            "report": report,
            "app": app,
            "may_review": may_review,
            "may_correct": may_correct,
            # The reviewer's notes ask for a correction while the report waits for one.
            "correction_due": report["status"] in flow.actions["resubmit"].from_states,
            "state": state or {},
        },
    )


async def reports_panel(app: dict[str, Any], user: CurrentUser) -> dict[str, Any] | None:
    """The monthly reports of an application; the applicant also gets the link to file one while active."""
    may_file = user.role == Role.applicant and loader.get(app["workflow"]).has(app["status"], "reports_due")
    reports = await services.list_for_application(int(app["id"]), user)
    if not reports and not may_file:
        return None
    return {"reports": reports, "may_file": may_file, "application_id": app["id"]}


class ReportPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/applications/{application_id:int}/reports/new", guards=[roles(Role.applicant)])
    async def new_page(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> Template:
        app = await _application(application_id, user)
        if user.role != Role.applicant:
            raise Forbidden(_("Only the group's leader files its reports."))
        return _form_page(app, blank_form(services.current_period()), forms.FormErrors())

    @post("/applications/{application_id:int}/reports/new", guards=[roles(Role.applicant)])
    async def create(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> Template | Redirect:
        app = await _application(application_id, user)
        form = await request.form()
        data = read_form(form)
        if row_edit(form, data):
            return _form_page(app, data, forms.FormErrors())
        try:
            report = await services.submit(application_id, user, forms.convert(to_body(data), ReportIn))
        except Problem as problem:
            return _form_page(app, data, forms.FormErrors.from_problem(problem), status_code=problem.status)
        flash(request, _("The report for %(period)s is filed; a reviewer will look at it.", period=report["period"]))
        return Redirect(f"/reports/{report['id']}", status_code=303)

    @get("/reports/{report_id:int}")
    async def detail(self, user: NamedDependency[CurrentUser], report_id: FromPath[int]) -> Template:
        return await _detail_page(user, report_id)

    @get("/reports/{report_id:int}/edit", guards=[roles(Role.applicant)])
    async def edit_page(self, user: NamedDependency[CurrentUser], report_id: FromPath[int]) -> Template:
        report = await services.get_report(report_id, user)
        app = await _application(int(report["application_id"]), user)
        if user.role != Role.applicant:
            raise Forbidden(_("Only the group's leader files its reports."))
        return _form_page(app, form_from_report(report), forms.FormErrors(), report=report)

    @post("/reports/{report_id:int}/edit", guards=[roles(Role.applicant)])
    async def correct(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], report_id: FromPath[int]
    ) -> Template | Redirect:
        report = await services.get_report(report_id, user)
        app = await _application(int(report["application_id"]), user)
        form = await request.form()
        data = read_form(form)
        data["period"] = report["period"]  # a report's period does not change
        if row_edit(form, data):
            return _form_page(app, data, forms.FormErrors(), report=report)
        try:
            await services.correct(
                report_id, user, forms.convert(to_body(data), ReportIn), forms.parse_amount(data["version"])
            )
        except Problem as problem:
            return _form_page(
                app, data, forms.FormErrors.from_problem(problem), report=report, status_code=problem.status
            )
        flash(request, _("The corrected report is filed again; a reviewer will look at it."))
        return Redirect(f"/reports/{report_id}", status_code=303)

    @post("/reports/{report_id:int}/actions/{action:str}", guards=[roles(Role.reviewer)])
    async def review(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        report_id: FromPath[int],
        action: FromPath[str],
    ) -> Template | Redirect:
        form = await request.form()
        notes = str(form.get("notes") or "")
        try:
            report = await services.review(report_id, action, user, notes, forms.parse_amount(form.get("version")))
        except Problem as problem:
            state = {"action": action, "errors": forms.FormErrors.from_problem(problem), "notes": notes}
            return await _detail_page(user, report_id, status_code=problem.status, state=state)
        flash(
            request,
            _(
                "Report %(period)s: %(status)s.",
                period=report["period"],
                status=label(report["status"], "report_status"),
            ),
        )
        return Redirect(f"/reports/{report_id}", status_code=303)

    @get("/reports", guards=[roles(*STAFF)])
    async def queue(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
    ) -> Template:
        statuses = tuple(services.flow().states)
        if status != "all" and status not in statuses:
            status = services.flow().initial
        result = await services.list_reports(
            user, page_params(page, PER_PAGE), None if status == "all" else status, region or None
        )
        query = {k: v for k, v in (("status", status), ("region", region)) if v}
        return Template(
            "reports/queue.html",
            context={
                "result": result,
                "status": status,
                "region": region or "",
                "tabs": [{"state": s, "label": label(s, "report_status")} for s in statuses],
                "region_options": region_filter_options(user),
                "base_query": urlencode(query),
            },
        )
