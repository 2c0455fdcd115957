"""Pages for applications: the applicant's form (business plan, budget), documents, the status timeline;
the reviewer's queue and scoring; the approver's list with decisions one by one or several at once.

Handlers are thin: read the form, call the same services as the JSON API
(``services``, ``attachments``, ``engine.perform``), render. Which buttons a
page shows comes from ``view()["actions"]`` (the workflow file), never from
state names written here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template

from tkm import regions
from tkm.applications import access, approvals, attachments, services
from tkm.applications.schemas import ApplicationIn, ApplicationPatch
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import Conflict, Forbidden, Problem
from tkm.core.i18n import _
from tkm.core.inputs import ascii_int
from tkm.core.pagination import PageParams, page_params
from tkm.core.settings import get_settings
from tkm.groups import services as group_services
from tkm.groups.html import nik_check
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.services import get_programme, list_programmes
from tkm.web import forms
from tkm.web.flash import flash
from tkm.web.labels import label
from tkm.web.nav import panels_for
from tkm.workflow import engine, loader
from tkm.workflow.definition import Action, Workflow

PLAN_FIELDS = ("business_plan.summary", "business_plan.market", "business_plan.workers")
PRODUCT_FIELDS = ("product", "unit", "units_per_day", "unit_cost", "unit_price")
BUDGET_FIELDS = ("component", "description", "quantity", "unit", "unit_cost")
PER_PAGE = 20
#: Several-at-once decisions handle at most this many applications per request.
MAX_BULK = 100


# --- the workflow files, read for pages -------------------------------------------------------------------------


def _workflows() -> list[Workflow]:
    return [loader.get(name) for name in loader.names()]


def state_labels() -> dict[str, str]:
    """{state: label for people} over every workflow (the first label wins when two files share a state)."""
    out: dict[str, str] = {}
    for workflow in _workflows():
        for name, state in workflow.states.items():
            out.setdefault(name, str(state.label))
    return out


def role_states(role: str, styles: tuple[str, ...] = ("primary", "secondary", "danger")) -> list[str]:
    """States (in file order) from which ``role`` has an action of one of ``styles``.

    A role's work queue shows the states where it moves things on: an action styled
    primary or secondary (e.g. reviewers: submitted, in review; approvers:
    recommended, not recommended). Danger-only states (suspending a running grant)
    stay reachable through the status tabs.
    """
    out: list[str] = []
    for workflow in _workflows():
        for state in workflow.states:
            if state in out:
                continue
            if any(role in a.roles and a.style in styles for a in workflow.actions_from(state)):
                out.append(state)
    return out


def bulk_actions(role: str, states: list[str]) -> list[dict[str, str]]:
    """Actions ``role`` may take from ``states`` with a text-only body (approve, reject): fit for several at once."""
    seen: dict[str, dict[str, str]] = {}
    for workflow in _workflows():
        for action in workflow.actions.values():
            if role not in action.roles or not set(action.from_states) & set(states):
                continue
            if all(f.type == "text" for f in action.body) and action.name not in seen:
                required = any(f.required for f in action.body)
                seen[action.name] = {"name": action.name, "label": str(action.label), "style": action.style}
                seen[action.name]["text_required"] = "1" if required else ""
    return list(seen.values())


def _history(app: dict[str, Any], workflow: Workflow) -> list[dict[str, Any]]:
    events = []
    for event in app["history"]:
        action = workflow.actions.get(event["action"])
        state = workflow.states.get(event["to"])
        events.append(
            {
                **event,
                "label": str(action.label) if action else label(event["action"], "action"),
                "to_label": str(state.label) if state else event["to"],
            }
        )
    return events


# --- reading the application form --------------------------------------------------------------------------------


def read_application_form(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = forms.values(form, ("programme", "group_id", "version", *PLAN_FIELDS))
    data["products"] = forms.rows(form, "business_plan.products", PRODUCT_FIELDS)
    data["budget"] = forms.rows(
        form, "budget", BUDGET_FIELDS, text_fields=("description", "quantity", "unit", "unit_cost")
    )
    return data


def form_from_application(app: dict[str, Any]) -> dict[str, Any]:
    plan = app["business_plan"] or {}
    return {
        "programme": app["programme"],
        "group_id": str(app["group_id"]),
        "version": str(app["version"]),
        "business_plan.summary": plan.get("summary", ""),
        "business_plan.market": plan.get("market", ""),
        "business_plan.workers": str(plan.get("workers", "")),
        "products": [{k: str(p.get(k, "")) for k in PRODUCT_FIELDS} for p in plan.get("products", [])],
        "budget": [{k: str(b[k]) for k in BUDGET_FIELDS} for b in app["budget"]],
    }


def plan_and_budget(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], forms.FormErrors]:
    """The API's business_plan and budget for the typed form, and the numbers that are not numbers.

    Budget amounts that do not parse are passed on as typed: the service names the field.
    """
    errors = forms.FormErrors()
    workers = forms.parse_amount(data["business_plan.workers"])
    if workers is None:
        errors.add("business_plan.workers", _("Enter a whole number, e.g. 10."))
    products = []
    for i, row in enumerate(data["products"]):
        product: dict[str, Any] = {"product": row["product"], "unit": row["unit"]}
        for name in ("units_per_day", "unit_cost", "unit_price"):
            number = forms.parse_amount(row[name])
            if number is None:
                errors.add(f"business_plan.products[{i}].{name}", _("Enter a whole number, e.g. 2500."))
            product[name] = number or 0
        products.append(product)
    plan = {
        "summary": data["business_plan.summary"],
        "market": data["business_plan.market"],
        "workers": workers or 0,
        "products": products,
    }
    budget = [
        {
            "component": row["component"],
            "description": row["description"],
            "quantity": forms.int_or_text(row["quantity"]),
            "unit": row["unit"],
            "unit_cost": forms.int_or_text(row["unit_cost"]),
        }
        for row in data["budget"]
    ]
    return plan, budget, errors


def budget_view(data: dict[str, Any], programme: dict[str, Any] | None) -> dict[str, Any]:
    """Line and component totals of the typed budget, next to the programme's caps (shown; the service decides)."""
    lines = []
    totals = dict.fromkeys(COMPONENTS, 0)
    for row in data["budget"]:
        quantity, cost = forms.parse_amount(row["quantity"]), forms.parse_amount(row["unit_cost"])
        total = quantity * cost if quantity is not None and cost is not None else None
        if total is not None and row["component"] in totals:
            totals[row["component"]] += total
        lines.append(total)
    caps = {c: rule.get("max") for c, rule in (programme or {}).get("components", {}).items()}
    components = [
        {
            "name": c,
            "total": totals[c],
            "cap": caps.get(c),
            # A component the programme does not fund is over its limit with any amount (as the page's script says).
            "over": totals[c] > (caps.get(c) or 0),
        }
        for c in COMPONENTS
    ]
    grand = sum(totals.values())
    max_total = (programme or {}).get("max_per_group")
    return {
        "line_totals": lines,
        "components": components,
        "grand": grand,
        "max": max_total,
        "over": max_total is not None and grand > max_total,
    }


def row_edit(form: Any, data: dict[str, Any]) -> bool:
    """Without JavaScript, adding and removing rows are submit buttons (``_add=budget``, ``_remove=budget:2``)."""
    add = form.get("_add")
    if add == "budget":
        data["budget"].append(dict.fromkeys(BUDGET_FIELDS, ""))
        return True
    if add == "product":
        data["products"].append(dict.fromkeys(PRODUCT_FIELDS, ""))
        return True
    remove = str(form.get("_remove") or "")
    which, _sep, index = remove.partition(":")
    key = {"budget": "budget", "product": "products"}.get(which)
    if key and index.isascii() and index.isdigit() and len(index) < 5:
        if int(index) < len(data[key]):
            del data[key][int(index)]
        return True
    return False


def _component_options() -> list[tuple[str, str]]:
    return [(c, label(c, "component")) for c in COMPONENTS]


def _programme_caps(programme: dict[str, Any]) -> dict[str, Any]:
    return {
        "caps": {c: rule.get("max") for c, rule in programme["components"].items()},
        "wage": programme["components"].get("wages", {}).get("daily_wage_max"),
        "max": programme["max_per_group"],
    }


def _starting_budget(programme: dict[str, Any] | None) -> list[dict[str, str]]:
    components = list((programme or {}).get("components", {})) or list(COMPONENTS)
    return [{**dict.fromkeys(BUDGET_FIELDS, ""), "component": c} for c in components]


async def _form_page(
    user: CurrentUser,
    data: dict[str, Any],
    errors: forms.FormErrors,
    *,
    mode: str,
    group: dict[str, Any],
    programmes: list[dict[str, Any]],
    app: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    chosen = next((p for p in programmes if p["code"] == data["programme"]), programmes[0] if programmes else None)
    if not data["products"]:
        data["products"] = [dict.fromkeys(PRODUCT_FIELDS, "")]
    if not data["budget"]:
        data["budget"] = _starting_budget(chosen)
    return Template(
        "applications/form.html",
        status_code=status_code,
        context={
            "mode": mode,
            "form": data,
            "errors": errors,
            "group": group,
            "programmes": programmes,
            "programme": chosen,
            "programme_caps": {p["code"]: _programme_caps(p) for p in programmes},
            "budget_view": budget_view(data, chosen),
            "components": _component_options(),
            "app": app,
        },
    )


# --- the detail page: what an action's form sends -----------------------------------------------------------------


def action_body(action: Action, form: Any, workflow: Workflow) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body of a workflow action from its small form, and the raw text to show again on error.

    Field types come from the workflow file: text, true/bool (checkbox), int, date,
    scores (one 1-5 choice per rubric criterion: ``scores.<criterion>``) and
    amounts (one rupiah input per component: ``recommended_budget.<component>``).
    """
    body: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for spec in action.body:
        name = spec.name
        if spec.type == "scores":
            scores: dict[str, Any] = {}
            for criterion in workflow.rubric:
                key = f"{name}.{criterion.criterion}"
                raw[key] = str(form.get(key) or "")
                if raw[key]:
                    scores[criterion.criterion] = forms.int_or_text(raw[key])
            body[name] = scores
        elif spec.type == "amounts":
            amounts: dict[str, Any] = {}
            for key, value in form.multi_items():
                if key.startswith(name + ".") and isinstance(value, str):
                    raw[key] = value
                    if value.strip():
                        amounts[key[len(name) + 1 :]] = forms.int_or_text(value)
            if amounts:
                body[name] = amounts
        elif spec.type in ("true", "bool"):
            checked = form.get(name) in ("on", "true", "1")
            raw[name] = "on" if checked else ""
            body[name] = checked
        else:
            value = form.get(name)
            raw[name] = value if isinstance(value, str) else ""
            if raw[name].strip():
                body[name] = forms.int_or_text(raw[name]) if spec.type == "int" else raw[name]
    return body, raw


def _attachment_view(a: dict[str, Any]) -> dict[str, Any]:
    return {
        **a,
        "inline_url": f"/attachments/{a['id']}/inline",
        "is_image": a["content_type"].startswith("image/"),
        "is_pdf": a["content_type"] == "application/pdf",
    }


async def _detail_page(
    user: CurrentUser,
    application_id: int,
    *,
    status_code: int = 200,
    action_state: dict[str, Any] | None = None,
    upload_state: dict[str, Any] | None = None,
) -> Template:
    app = await services.get_application(application_id, user)
    row = await access.load(application_id, user)
    workflow = loader.get(app["workflow"])
    group = await group_services.get_group(app["group_id"], user)
    programme = await get_programme(app["programme"])
    refused = await engine.action_refusals(row, user)
    is_owner = user.role == Role.applicant and int(row["applicant"]) == user.id
    upload_kinds = attachments.kinds_allowed(app) if is_owner else ()
    latest = app["history"][-1] if app["history"] else None
    return Template(
        "applications/detail.html",
        status_code=status_code,
        context={
            "app": app,
            "group": group,
            "programme": programme,
            "history": _history(app, workflow),
            "latest": latest if latest and latest["to"] == app["status"] and latest["notes"] else None,
            "rubric": app["rubric"],
            "blocked": [{"label": str(workflow.actions[a].label), "reason": why} for a, why in refused.items()],
            "attachments": [_attachment_view(a) for a in app["attachments"]],
            "upload_kinds": [(k, label(k, "kind")) for k in upload_kinds],
            "upload": upload_state or {"errors": forms.FormErrors(), "kind": ""},
            "action_state": action_state or {},
            "can_edit": is_owner and services.is_editable(app),
            "nik_checks": [nik_check(m["nik"]) for m in group["members"]],
            "max_upload_bytes": get_settings().max_upload_bytes,
            "panels": await panels_for(app, user),
        },
    )


# --- lists ---------------------------------------------------------------------------------------------------------


def region_filter_options(user: CurrentUser) -> list[tuple[str, str]]:
    """The regions a staff member may filter by: their own and the regencies/cities under them."""
    scopes = [r.code for r in regions.provinces()] if user.sees_everything else list(user.regions)
    options: list[tuple[str, str]] = []
    for code in scopes:
        options.append((code, regions.name(code)))
        if not user.sees_everything:
            options.extend((r.code, "— " + r.name) for r in regions.children(code))
    return options


async def _list_page(
    user: CurrentUser,
    *,
    template_title: str,
    path: str,
    queue: list[str],
    status: str | None,
    region: str | None,
    q: str | None,
    page: int | None,
    per_page: int | None = None,
    bulk: list[dict[str, str]] | None = None,
) -> Template:
    labels = state_labels()
    counts = await services.status_counts(user)
    tab_states = queue if queue else [s for s in labels if counts.get(s)]
    tabs = [{"state": s, "label": labels.get(s, s), "count": counts.get(s, 0)} for s in tab_states]
    if status and status != "all" and all(s in labels for s in status.split(",")):
        selected = status
    else:  # "all": the whole queue, or every state on the plain list
        status, selected = "all", ",".join(queue)
    result = await services.list_applications(
        user, page_params(page, per_page or PER_PAGE), status=selected or None, region=region or None, q=q or None
    )
    query = {k: v for k, v in (("status", status), ("region", region), ("q", q), ("per_page", per_page)) if v}
    return Template(
        "applications/list.html",
        context={
            "title": template_title,
            "path": path,
            "tabs": tabs,
            "status": status,
            "queue_total": sum(counts.get(s, 0) for s in tab_states),
            "all_label": _("Waiting for me") if queue else _("All"),
            "region": region or "",
            "q": q or "",
            "result": result,
            "base_query": urlencode(query),
            "region_options": [] if user.role == Role.applicant else region_filter_options(user),
            "bulk": bulk or [],
            "here_query": urlencode({**query, "page": result["page"]}),
        },
    )


def _safe_back(target: str | None, fallback: str) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else fallback


class ApplicationPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/applications")
    async def list_page(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> Template:
        title = _("My applications") if user.role == Role.applicant else _("Applications")
        return await _list_page(
            user,
            template_title=title,
            path="/applications",
            queue=[],
            status=status,
            region=region,
            q=q,
            page=page,
            per_page=per_page,
        )

    @get("/review", guards=[roles(Role.reviewer)])
    async def review_queue(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> Template:
        return await _list_page(
            user,
            template_title=_("Review queue"),
            path="/review",
            queue=role_states(user.role, ("primary", "secondary")),
            status=status,
            region=region,
            q=q,
            page=page,
            per_page=per_page,
        )

    @get("/approvals", guards=[roles(Role.approver)])
    async def approvals(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> Template:
        queue = role_states(user.role, ("primary", "secondary"))
        return await _list_page(
            user,
            template_title=_("Approvals"),
            path="/approvals",
            queue=queue,
            status=status,
            region=region,
            q=q,
            page=page,
            per_page=per_page,
            bulk=bulk_actions(user.role, queue),
        )

    @post("/approvals", guards=[roles(Role.approver)])
    async def decide_several(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Redirect:
        """Approve, reject or return several applications: each one is its own ``engine.perform`` (own transaction)."""
        form = await request.form()
        back = _safe_back("/approvals?" + str(form.get("back") or ""), "/approvals")
        action = str(form.get("action") or "")
        text = str(form.get("text") or "").strip()
        offered = {a["name"]: a for a in bulk_actions(user.role, role_states(user.role, ("primary", "secondary")))}
        picked: list[tuple[int, int | None]] = []
        for value in form.getall("application", [])[:MAX_BULK]:
            ident, _sep, version = str(value).partition(":")
            number = ascii_int(ident)
            if number is not None:
                picked.append((number, ascii_int(version)))
        if not picked:
            flash(request, _("Tick at least one application."), kind="error")
            return Redirect(back, status_code=303)
        if action not in offered:
            flash(request, _("Choose what to do with the ticked applications."), kind="error")
            return Redirect(back, status_code=303)
        if action in approvals.ACTIONS:
            return await self._decide_collectively(request, user, back, offered[action], text, picked)
        lines: list[dict[str, str]] = []
        done = 0
        for application_id, version in picked:
            try:
                row = await access.load(application_id, user)
                spec = loader.get(row["workflow"]).actions.get(action)
                body = {}
                if spec is not None and text:
                    body = {f.name: text for f in spec.body if f.type == "text"}
                ctx = await engine.perform(application_id, action, user, body, version)
            except Problem as problem:
                reason = "; ".join(e.message for e in problem.errors) if problem.status == 422 else problem.detail
                line = _("#%(id)s refused: %(reason)s", id=application_id, reason=reason)
                lines.append({"text": line, "href": f"/applications/{application_id}"})
            else:
                done += 1
                line = _(
                    "#%(id)s: %(action)s, now %(status)s.",
                    id=application_id,
                    action=str(ctx.action.label),
                    status=str(ctx.workflow.states[ctx.to_state].label),
                )
                lines.append({"text": line, "href": f"/applications/{application_id}"})
        summary = _("%(done)s of %(total)s applications done.", done=done, total=len(picked))
        flash(request, summary, kind="ok" if done == len(picked) else "warn", items=lines)
        return Redirect(back, status_code=303)

    async def _decide_collectively(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        back: str,
        action: dict[str, str],
        text: str,
        picked: list[tuple[int, int | None]],
    ) -> Redirect:
        """Approve or reject the ticked applications as one decision: the approved ones share one collective SK."""
        body: dict[str, Any] = {"applications": [i for i, _v in picked], "action": action["name"]}
        if text:
            body[approvals.ACTIONS[action["name"]]] = text
        lines: list[dict[str, str]] = []
        try:
            results = await approvals.decide(user, body, dict(picked))
        except Problem as problem:  # the call as a whole is refused (e.g. no reasons to reject): so is each one
            reason = "; ".join(e.message for e in problem.errors) or problem.detail
            results = []
            for application_id, _version in picked:
                line = _("#%(id)s refused: %(reason)s", id=application_id, reason=reason)
                lines.append({"text": line, "href": f"/applications/{application_id}"})
        decree: int | None = None
        for item in results:
            href = f"/applications/{item['id']}"
            problem = item["problem"]
            if problem is not None:
                errors = problem.get("errors") or []
                reason = "; ".join(e["message"] for e in errors) if problem["status"] == 422 else problem["detail"]
                lines.append({"text": _("#%(id)s refused: %(reason)s", id=item["id"], reason=reason), "href": href})
                continue
            decree = item["documents"].get("collective_decree", decree)
            line = _(
                "#%(id)s: %(action)s, now %(status)s.",
                id=item["id"],
                action=action["label"],
                status=state_labels().get(item["status"], item["status"]),
            )
            lines.append({"text": line, "href": href})
        done = sum(1 for item in results if item["problem"] is None)
        if decree is not None:
            lines.append(
                {
                    "text": _("One collective decree for the approved applications, and an extract for each."),
                    "href": f"/api/v1/documents/{decree}/pdf",
                }
            )
        summary = _("%(done)s of %(total)s applications done.", done=done, total=len(picked))
        flash(request, summary, kind="ok" if done == len(picked) else "warn", items=lines)
        return Redirect(back, status_code=303)

    @get("/applications/new")
    async def new_page(
        self, user: NamedDependency[CurrentUser], group_id: FromQuery[int | None] = None
    ) -> Template | Redirect:
        if user.role != Role.applicant:
            raise Forbidden(_("Only a group's leader (applicant) applies."))
        groups = (await group_services.list_groups(user, PageParams(1, 200)))["items"]
        if group_id is None:
            if len(groups) == 1:
                return Redirect(f"/applications/new?group_id={groups[0]['id']}")
            return Template("applications/choose_group.html", context={"groups": groups})
        group = await group_services.get_group(group_id, user)
        programmes = (await list_programmes(PageParams(1, 200), open_only=True, covering=group["region"]))["items"]
        data = read_application_form({})
        data["group_id"] = str(group["id"])
        data["programme"] = programmes[0]["code"] if programmes else ""
        return await _form_page(user, data, forms.FormErrors(), mode="new", group=group, programmes=programmes)

    @post("/applications/new", guards=[roles(Role.applicant)])
    async def create(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Template | Redirect:
        form = await request.form()
        data = read_application_form(form)
        group_id = forms.parse_amount(data["group_id"])
        if group_id is None:
            return Redirect("/applications/new", status_code=303)
        group = await group_services.get_group(group_id, user)
        programmes = (await list_programmes(PageParams(1, 200), open_only=True, covering=group["region"]))["items"]
        page = {"mode": "new", "group": group, "programmes": programmes}
        if row_edit(form, data):
            return await _form_page(user, data, forms.FormErrors(), **page)
        plan, budget, errors = plan_and_budget(data)
        status = 422
        if not errors:
            body = {"programme": data["programme"], "group_id": group_id, "business_plan": plan, "budget": budget}
            try:
                app = await services.create_application(user, forms.convert(body, ApplicationIn))
            except Problem as problem:
                errors, status = forms.FormErrors.from_problem(problem), problem.status
            else:
                flash(request, _("Application #%(id)s is saved as a draft.", id=app["id"]))
                return Redirect(f"/applications/{app['id']}", status_code=303)
        return await _form_page(user, data, errors, status_code=status, **page)

    @get("/applications/{application_id:int}")
    async def detail(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> Template:
        return await _detail_page(user, application_id)

    @get("/applications/{application_id:int}/edit", guards=[roles(Role.applicant)])
    async def edit_page(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> Template:
        app = await services.get_application(application_id, user)
        if user.role != Role.applicant:
            raise Forbidden(_("Only the applicant changes an application."))
        if not services.is_editable(app):
            raise Conflict(_("An application can be changed only as a draft or when a revision was requested."))
        group = await group_services.get_group(app["group_id"], user)
        programme = await get_programme(app["programme"])
        data = form_from_application(app)
        return await _form_page(
            user, data, forms.FormErrors(), mode="edit", group=group, programmes=[programme], app=app
        )

    @post("/applications/{application_id:int}/edit", guards=[roles(Role.applicant)])
    async def update(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> Template | Redirect:
        app = await services.get_application(application_id, user)
        group = await group_services.get_group(app["group_id"], user)
        programme = await get_programme(app["programme"])
        form = await request.form()
        data = read_application_form(form)
        data["programme"], data["group_id"] = app["programme"], str(app["group_id"])
        page = {"mode": "edit", "group": group, "programmes": [programme], "app": app}
        if row_edit(form, data):
            return await _form_page(user, data, forms.FormErrors(), **page)
        plan, budget, errors = plan_and_budget(data)
        status = 422
        if not errors:
            body = {"business_plan": plan, "budget": budget}
            try:
                await services.patch_application(
                    application_id, user, forms.convert(body, ApplicationPatch), forms.parse_amount(data["version"])
                )
            except Problem as problem:
                errors, status = forms.FormErrors.from_problem(problem), problem.status
            else:
                flash(request, _("Your changes are saved."))
                return Redirect(f"/applications/{application_id}", status_code=303)
        return await _form_page(user, data, errors, status_code=status, **page)

    @post("/applications/{application_id:int}/attachments", guards=[roles(Role.applicant)])
    async def upload(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        kind = str(form.get("kind") or "")
        try:
            upload = forms.chosen_file(form)
            try:
                added = await attachments.upload(application_id, user, kind, upload.filename, upload.file)
            finally:
                await upload.close()
        except Problem as problem:
            errors = forms.FormErrors(problem.errors, problem.detail)
            if not problem.errors:
                errors.add("file", problem.detail)
            state = {"errors": errors, "kind": kind}
            return await _detail_page(user, application_id, status_code=problem.status, upload_state=state)
        flash(request, _("%(kind)s uploaded: %(name)s.", kind=label(added["kind"], "kind"), name=added["filename"]))
        return Redirect(f"/applications/{application_id}#documents", status_code=303)

    @post("/applications/{application_id:int}/actions/{action:str}")
    async def act(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        application_id: FromPath[int],
        action: FromPath[str],
    ) -> Template | Redirect:
        form = await request.form()
        row = await access.load(application_id, user)
        workflow = loader.get(row["workflow"])
        spec = workflow.actions.get(action)
        body, raw = action_body(spec, form, workflow) if spec else ({}, {})
        try:
            ctx = await engine.perform(application_id, action, user, body, forms.parse_amount(form.get("version")))
        except Problem as problem:
            errors = forms.FormErrors.from_problem(problem, summary=_("Please check the marked answers."))
            state = {"action": action, "errors": errors, "values": raw}
            return await _detail_page(user, application_id, status_code=problem.status, action_state=state)
        flash(
            request,
            _(
                "%(action)s: done. The application is now: %(status)s.",
                action=str(ctx.action.label),
                status=str(workflow.states[ctx.to_state].label),
            ),
        )
        return Redirect(f"/applications/{application_id}", status_code=303)

    @get("/attachments/{attachment_id:int}/inline")
    async def inline(self, user: NamedDependency[CurrentUser], attachment_id: FromPath[int]) -> File:
        """The attachment shown in the page (PDF in a frame, images as <img>); same access as the download."""
        path, row = await attachments.open_for_download(attachment_id, user)
        return File(
            path=path,
            filename=row["filename"],
            media_type=row["content_type"],
            content_disposition_type="inline",
            headers={
                **attachments.VIEW_HEADERS,
                "X-Frame-Options": "SAMEORIGIN",
                "Cache-Control": "private, max-age=600",
            },
        )
