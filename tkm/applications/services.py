"""Applications: create and change drafts, read with history and allowed actions, list, run actions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from piccolo.query.functions.aggregate import Count

from tkm import regions
from tkm.applications import access
from tkm.applications.budget import check_lines
from tkm.applications.schemas import ApplicationIn, ApplicationPatch, BusinessPlan
from tkm.applications.tables import Application, Attachment, BudgetLine
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, PreconditionFailed, ValidationProblem, invalid
from tkm.core.i18n import _
from tkm.core.inputs import ascii_int
from tkm.core.pagination import PageParams
from tkm.groups.tables import Group, Member
from tkm.programmes.services import programme_out
from tkm.programmes.tables import Programme
from tkm.workflow import engine, history, loader


def is_editable(row: dict[str, Any]) -> bool:
    """May the applicant still change the plan and budget? The workflow file says, per state (``editable``)."""
    return loader.get(row["workflow"]).has(row["status"], "editable")


def _check_plan(plan: BusinessPlan) -> list[FieldError]:
    errors: list[FieldError] = []
    if not plan.summary.strip() or len(plan.summary) > 5000:
        errors.append(FieldError("business_plan.summary", _("Describe the business (at most 5000 characters).")))
    if not plan.market.strip() or len(plan.market) > 5000:
        errors.append(FieldError("business_plan.market", _("Describe who will buy (at most 5000 characters).")))
    if plan.workers < 1 or plan.workers > 1000:
        errors.append(FieldError("business_plan.workers", _("How many people will work: 1 to 1000.")))
    if not plan.products:
        errors.append(FieldError("business_plan.products", _("Name at least one product.")))
    for i, p in enumerate(plan.products):
        key = f"business_plan.products[{i}]"
        if not p.product.strip() or len(p.product) > 60:
            errors.append(FieldError(f"{key}.product", _("A product is a short name, e.g. masker.")))
        if not p.unit.strip() or len(p.unit) > 30:
            errors.append(FieldError(f"{key}.unit", _("Give the unit, e.g. pcs, liter, batang.")))
        for name in ("units_per_day", "unit_cost", "unit_price"):
            if getattr(p, name) < 0:
                errors.append(FieldError(f"{key}.{name}", _("Must be zero or more.")))
    return errors


def _plan_json(plan: BusinessPlan) -> str:
    return json.dumps(
        {
            "summary": plan.summary.strip(),
            "market": plan.market.strip(),
            "workers": plan.workers,
            "products": [
                {
                    "product": p.product.strip().lower(),
                    "unit": p.unit.strip(),
                    "units_per_day": p.units_per_day,
                    "unit_cost": p.unit_cost,
                    "unit_price": p.unit_price,
                }
                for p in plan.products
            ],
        }
    )


async def _programme(code: str) -> dict[str, Any]:
    row = await Programme.select().where(Programme.code == code).first()
    if row is None:
        raise ValidationProblem([FieldError("programme", _("Unknown programme %(code)s.", code=code))])
    return programme_out(row)


def _raw_lines(budget: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "component": b.component,
            "description": b.description,
            "quantity": b.quantity,
            "unit": b.unit,
            "unit_cost": b.unit_cost,
        }
        for b in budget
    ]


async def _replace_lines(application_id: int, lines: list[Any]) -> int:
    await BudgetLine.delete().where(BudgetLine.application == application_id)
    if lines:
        await BudgetLine.insert(
            *[
                BudgetLine(
                    application=application_id,
                    position=i,
                    component=line.component,
                    description=line.description,
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_cost=line.unit_cost,
                    total=line.total,
                )
                for i, line in enumerate(lines)
            ]
        )
    return sum(line.total for line in lines)


async def create_application(actor: CurrentUser, data: ApplicationIn) -> dict[str, Any]:
    if actor.role != Role.applicant:
        raise Forbidden(_("Only a group's leader (applicant) applies."))
    programme = await _programme(data.programme)
    errors = _check_plan(data.business_plan)
    lines, line_errors = check_lines(_raw_lines(data.budget), programme)
    errors.extend(line_errors)
    group = await Group.select().where(Group.id == data.group_id).first()
    if group is None or int(group["owner"]) != actor.id:
        errors.append(FieldError("group_id", _("You have no group %(id)s.", id=data.group_id)))
    elif not any(group["region"] == r or group["region"].startswith(r + ".") for r in programme["regions"]):
        errors.append(
            FieldError(
                "group_id",
                _(
                    "Programme %(code)s does not cover the group's region (%(region)s).",
                    code=programme["code"],
                    region=regions.name(group["region"]),
                ),
            )
        )
    if errors:
        raise ValidationProblem(errors)
    if not programme["is_open"]:
        raise Conflict(
            _(
                "Programme %(code)s is not open for applications (it runs from %(opens)s to %(closes)s).",
                code=programme["code"],
                opens=programme["opens_on"],
                closes=programme["closes_on"],
            ),
            errors=[FieldError("programme", _("This programme is closed."))],
        )
    workflow = loader.get(programme["workflow"])
    final = list(workflow.states_with("final"))
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        open_app = await Application.exists().where(
            Application.group_id == data.group_id,
            Application.programme == programme["id"],
            Application.status.not_in(final),
        )
        if open_app:
            raise Conflict(
                _("This group already has an open application in programme %(code)s.", code=programme["code"]),
                errors=[FieldError("group_id", _("Already applied."))],
            )
        rows = await Application.insert(
            Application(
                programme=programme["id"],
                group_id=data.group_id,
                applicant=actor.id,
                region=group["region"],
                workflow=workflow.name,
                status=workflow.initial,
                version=1,
                business_plan=_plan_json(data.business_plan),
                created_at=now,
                updated_at=now,
            )
        ).returning(Application.id)
        application_id = int(rows[0]["id"])
        total = await _replace_lines(application_id, lines)
        await Application.update({Application.requested_total: total}).where(Application.id == application_id)
        await history.append(
            "application", application_id, workflow.created_action, actor, to_state=workflow.initial, at=now
        )
        await audit.record(
            "application.created",
            actor_id=actor.id,
            actor=actor.email,
            object_type="application",
            object_id=application_id,
            details={"programme": programme["code"], "total": total},
        )
    return await get_application(application_id, actor)


async def patch_application(
    application_id: int, actor: CurrentUser, data: ApplicationPatch, if_match: int | None
) -> dict[str, Any]:
    async with db.transaction():
        row = await access.load(application_id, actor, lock=True)
        if actor.role != Role.applicant:
            raise Forbidden(_("Only the applicant changes an application."))
        if if_match is not None and if_match != row["version"]:
            raise PreconditionFailed(
                _("The application changed since you read it. Reload it."), extra={"current_version": row["version"]}
            )
        if not is_editable(row):
            raise Conflict(_("An application can be changed only as a draft or when a revision was requested."))
        programme = programme_out(await Programme.select().where(Programme.id == row["programme"]).first())
        errors: list[FieldError] = []
        updates: dict[Any, Any] = {
            Application.updated_at: dt.datetime.now(dt.UTC),
            Application.version: row["version"] + 1,
        }
        if data.business_plan is not None:
            errors.extend(_check_plan(data.business_plan))
            updates[Application.business_plan] = _plan_json(data.business_plan)
        lines = None
        if data.budget is not None:
            lines, line_errors = check_lines(_raw_lines(data.budget), programme)
            errors.extend(line_errors)
        if errors:
            raise ValidationProblem(errors)
        if lines is not None:
            updates[Application.requested_total] = await _replace_lines(application_id, lines)
        await Application.update(updates).where(Application.id == application_id)
        await audit.record(
            "application.changed",
            actor_id=actor.id,
            actor=actor.email,
            object_type="application",
            object_id=application_id,
        )
    return await get_application(application_id, actor)


def _event_out(e: dict[str, Any]) -> dict[str, Any]:
    body = e["body"]
    return {
        "seq": e["seq"],
        "action": e["action"],
        "from": e["from_state"],
        "to": e["to_state"],
        "actor": e["actor_name"],
        "actor_id": e["actor"],
        "actor_role": e["actor_role"],
        "at": e["at"].isoformat(),
        "notes": e["notes"],
        "body": body,
    }


def attachment_out(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "kind": a["kind"],
        "filename": a["filename"],
        "content_type": a["content_type"],
        "size": a["size"],
        "sha256": a["sha256"],
        "uploaded_at": a["uploaded_at"].isoformat(),
        "url": f"/api/v1/attachments/{a['id']}",
    }


async def view(row: dict[str, Any], actor: CurrentUser) -> dict[str, Any]:
    workflow = loader.get(row["workflow"])
    programme = await Programme.select(Programme.code, Programme.name).where(Programme.id == row["programme"]).first()
    group = await Group.select(Group.id, Group.name, Group.region).where(Group.id == row["group_id"]).first()
    members = await Member.count().where(Member.group_id == row["group_id"])
    lines = await BudgetLine.select().where(BudgetLine.application == row["id"]).order_by(BudgetLine.position)
    events = await history.events("application", int(row["id"]))
    attachments = await Attachment.select().where(Attachment.application == row["id"]).order_by(Attachment.id)
    allowed = await engine.allowed_actions(row, actor)
    state = workflow.states[row["status"]]
    approved = row["approved_budget"] if row["approved_at"] is not None else None
    return {
        "id": row["id"],
        "programme": programme["code"],
        "programme_name": programme["name"],
        "workflow": workflow.name,
        "group_id": row["group_id"],
        "group": {"id": group["id"], "name": group["name"], "region": group["region"], "member_count": members},
        "region": row["region"],
        "region_name": regions.name(row["region"]),
        "status": row["status"],
        "status_label": str(state.label),
        "version": row["version"],
        "business_plan": row["business_plan"],
        "budget": [
            {
                "component": b["component"],
                "description": b["description"],
                "quantity": b["quantity"],
                "unit": b["unit"],
                "unit_cost": b["unit_cost"],
                "total": b["total"],
            }
            for b in lines
        ],
        "budget_totals": totals_of_rows(lines),
        "requested_total": row["requested_total"],
        "recommended_budget": row["recommended_budget"] or None,
        "scores": row["scores"] or None,
        "score": row["score"],
        "approved_budget": approved,
        "approved_total": row["approved_total"],
        "rubric": workflow.rubric_out(),
        "allowed_actions": allowed,
        "actions": [
            {
                "name": a,
                "label": str(workflow.actions[a].label),
                "style": workflow.actions[a].style,
                "body": [{"name": f.name, "type": f.type, "required": f.required} for f in workflow.actions[a].body],
            }
            for a in allowed
        ],
        "history": [_event_out(e) for e in events],
        "attachments": [attachment_out(a) for a in attachments],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "submitted_at": row["submitted_at"].isoformat() if row["submitted_at"] else None,
        "approved_at": row["approved_at"].isoformat() if row["approved_at"] else None,
    }


def totals_of_rows(lines: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for b in lines:
        totals[b["component"]] = totals.get(b["component"], 0) + int(b["total"])
    return totals


async def get_application(application_id: int, actor: CurrentUser) -> dict[str, Any]:
    return await view(await access.load(application_id, actor), actor)


async def list_applications(
    actor: CurrentUser,
    params: PageParams,
    *,
    status: str | None = None,
    programme: str | None = None,
    region: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    conditions: list[Any] = []
    visible = access.visible_condition(actor)
    if visible is not None:
        conditions.append(visible)
    if status and status.strip():
        states = [s.strip() for s in status.split(",") if s.strip()]
        if not states:
            raise invalid("status", _("Name one or more states, separated by commas."))
        conditions.append(Application.status.is_in(states))
    if programme:
        conditions.append(Application.programme.code == programme)
    if region:
        conditions.append((Application.region == region) | Application.region.like(region + ".%"))
    if q:
        number = ascii_int(q.strip().lstrip("#"))  # "²" and "٣" are text here, never an id
        by_name = db.ilike(Application.group_id.name, f"%{q.strip()}%")
        conditions.append((Application.id == number) | by_name if number is not None else by_name)
    query = Application.select(
        Application.id,
        Application.status,
        Application.workflow,
        Application.region,
        Application.version,
        Application.requested_total,
        Application.approved_total,
        Application.score,
        Application.recommended_budget,
        Application.submitted_at,
        Application.updated_at,
        Application.group_id.id,
        Application.group_id.name,
        Application.programme.code,
    )
    count = Application.count()
    for cond in conditions:
        query, count = query.where(cond), count.where(cond)
    rows = await query.order_by(Application.updated_at, ascending=False).limit(params.per_page).offset(params.offset)
    items = []
    for r in rows:
        workflow = loader.get(r["workflow"])
        items.append(
            {
                "id": r["id"],
                "programme": r["programme.code"],
                "group": {"id": r["group_id.id"], "name": r["group_id.name"]},
                "region": r["region"],
                "region_name": regions.name(r["region"]),
                "status": r["status"],
                "status_label": str(workflow.states[r["status"]].label),
                "version": r["version"],
                "requested_total": r["requested_total"],
                "approved_total": r["approved_total"],
                "score": r["score"],
                "recommended_budget": _json_or_none(r["recommended_budget"]),
                "submitted_at": r["submitted_at"].isoformat() if r["submitted_at"] else None,
                "updated_at": r["updated_at"].isoformat(),
            }
        )
    return params.envelope(items, await count)


def _json_or_none(value: Any) -> Any:
    value = json.loads(value) if isinstance(value, str) else value
    return value or None


async def status_counts(actor: CurrentUser) -> dict[str, int]:
    """How many applications the caller may see are in each state ({status: count})."""
    query = Application.select(Application.status, Count(alias="n")).group_by(Application.status)
    visible = access.visible_condition(actor)
    if visible is not None:
        query = query.where(visible)
    return {r["status"]: int(r["n"]) for r in await query}


async def act(
    application_id: int, action: str, actor: CurrentUser, body: dict[str, Any] | None, if_match: int | None
) -> dict[str, Any]:
    await engine.perform(application_id, action, actor, body, if_match)
    return await get_application(application_id, actor)
