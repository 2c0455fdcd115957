"""Budget amendments (perubahan RAB): an active grant's money moved between RAB components.

``propose(application_id, actor, body)`` is the applicant's request; the flow
``workflows/flows/amendment.toml`` runs the rest through the one transition runner
(``engine.run("amendment", id, "recommend" | "approve" | "reject", actor, body, if_match)``, or ``act``).

Rules (422 naming the field, nothing written, unless said otherwise):

- only the applicant proposes, while the grant's state has the trait ``pays_out`` (409), one pending
  amendment at a time (409); ``reason`` is required;
- the budget lines are checked as an application's (``tkm.applications.budget.check_lines``: shapes, the
  programme's caps per component and per group);
- the new total stays within the approved total (``budget``), never more;
- paid money is never re-planned: a component's new amount is at least what was already disbursed for it
  (``budget.<component>``);
- an amendment that changes nothing is refused (``budget``).

Approval (the effect ``apply_amendment``, in the action's transaction) checks the money again, refuses while
a tranche is on its way (``no_tranche_in_flight``: 409), replaces the application's budget lines and approved
budget (the amendment keeps both before and after), re-plans the unpaid tranches (paid ones never change),
moves the commitments in one balanced ``amendment`` posting (what the new total gives up goes back to the
programme's available money) and issues the amendment decree.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm.amendments.tables import Amendment
from tkm.applications import access
from tkm.applications.budget import Line, check_lines, totals_of
from tkm.applications.tables import Application, BudgetLine
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, NotYours, ValidationProblem
from tkm.core.i18n import _
from tkm.core.money import rupiah
from tkm.disbursement.plan import plan_tranches, reference, split
from tkm.disbursement.tables import Tranche
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.services import programme_out
from tkm.programmes.tables import Programme
from tkm.web.labels import label
from tkm.workflow import engine, history, loader
from tkm.workflow.definition import Workflow

JSON_FIELDS = ("lines_before", "lines_after", "totals_before", "totals_after", "tranches_before", "tranches_after")
MAX_REASON = 4000


def flow() -> Workflow:
    return loader.flow("amendment")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def _line_json(line: Line) -> dict[str, Any]:
    return {
        "component": line.component,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_cost": line.unit_cost,
        "total": line.total,
    }


def _raw(value: Any) -> dict[str, Any]:
    """A budget line from a msgspec Struct or a dict (the stateful test and the pages pass dicts)."""
    if isinstance(value, dict):
        return value
    return {k: getattr(value, k, None) for k in ("component", "description", "quantity", "unit", "unit_cost")}


def _component_label(component: str) -> str:
    return label(component, "component")


async def current_lines(application_id: int) -> list[dict[str, Any]]:
    rows = await (
        BudgetLine.select()
        .where(BudgetLine.application == application_id)
        .order_by(BudgetLine.position)
        .order_by(BudgetLine.id)
    )
    return [
        {
            "component": r["component"],
            "description": r["description"],
            "quantity": int(r["quantity"]),
            "unit": r["unit"],
            "unit_cost": int(r["unit_cost"]),
            "total": int(r["total"]),
        }
        for r in rows
    ]


async def money(application_id: int) -> dict[str, dict[str, int]]:
    """Per component what is approved (committed + disbursed) and what was disbursed, from the funds trail."""
    from tkm.ledger import services as ledger

    by_component = (await ledger.totals(application_id))["by_component"]
    return {
        "approved": {c: int(v["approved"]) for c, v in by_component.items() if v["approved"]},
        "disbursed": {c: int(v["disbursed"]) for c, v in by_component.items() if v["disbursed"]},
    }


def check_money(
    after: dict[str, int], approved: dict[str, int], disbursed: dict[str, int], *, status: int = 422
) -> list[FieldError]:
    """The money rules of an amendment: within the approved total, never below what was paid per component."""
    errors: list[FieldError] = []
    for component in COMPONENTS:
        paid = disbursed.get(component, 0)
        if after.get(component, 0) < paid:
            errors.append(
                FieldError(
                    f"budget.{component}",
                    _(
                        "%(component)s was already paid %(paid)s; paid money is not re-planned, so its new amount "
                        "(%(amount)s) may not be lower.",
                        component=_component_label(component),
                        paid=rupiah(paid),
                        amount=rupiah(after.get(component, 0)),
                    ),
                )
            )
    total, approved_total = sum(after.values()), sum(approved.values())
    if total > approved_total:
        errors.append(
            FieldError(
                "budget",
                _(
                    "The amended budget totals %(total)s, above the approved %(approved)s; an amendment may move "
                    "money between components or lower the total, never raise it.",
                    total=rupiah(total),
                    approved=rupiah(approved_total),
                ),
            )
        )
    return errors


async def propose(application_id: int, actor: CurrentUser, body: Any) -> dict[str, Any]:
    """The applicant proposes new budget lines with a reason; returns the amendment (state ``proposed``).

    ``body`` is an ``AmendmentIn`` or a dict ``{"budget": [lines], "reason": str}``.
    """
    budget = body.get("budget") if isinstance(body, dict) else body.budget
    reason = body.get("reason") if isinstance(body, dict) else body.reason
    async with db.transaction():
        app = await access.load(application_id, actor, lock=True)
        if actor.role != Role.applicant:
            raise Forbidden(_("Only the group's applicant proposes a budget amendment."))
        workflow = loader.get(app["workflow"])
        if not workflow.has(app["status"], "pays_out"):
            raise Conflict(
                _(
                    "A budget can be amended only while the grant is active; this application is %(state)s.",
                    state=workflow.state_label(app["status"]),
                ),
                extra={"current_status": app["status"]},
            )
        pending = list(flow().states_with("pending"))
        if await Amendment.exists().where(Amendment.application == application_id, Amendment.status.is_in(pending)):
            raise Conflict(
                _("An amendment of this budget is already waiting for a decision."),
                errors=[FieldError("budget", _("Wait for the decision on the amendment already proposed."))],
            )
        errors: list[FieldError] = []
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            errors.append(FieldError("reason", _("Say why the budget should change.")))
        elif len(reason) > MAX_REASON:
            errors.append(FieldError("reason", _("At most %(n)d characters.", n=MAX_REASON)))
        programme = programme_out(await Programme.select().where(Programme.id == app["programme"]).first())
        raw = [_raw(b) for b in budget] if isinstance(budget, list) else []
        if not isinstance(budget, list):
            errors.append(FieldError("budget", _("Give the budget lines.")))
        lines, line_errors = check_lines(raw, programme) if isinstance(budget, list) else ([], [])
        errors.extend(line_errors)
        if errors:
            raise ValidationProblem(errors)
        after = totals_of(lines)
        held = await money(application_id)
        errors = check_money(after, held["approved"], held["disbursed"])
        before_lines = await current_lines(application_id)
        after_lines = [_line_json(line) for line in lines]
        if not errors and after == held["approved"] and after_lines == before_lines:
            errors.append(FieldError("budget", _("This amendment changes nothing: the budget is already so.")))
        if errors:
            raise ValidationProblem(errors)
        now = dt.datetime.now(dt.UTC)
        rows = await Amendment.insert(
            Amendment(
                application=application_id,
                status=flow().initial,
                version=1,
                reason=reason,
                lines_before=json.dumps(before_lines),
                lines_after=json.dumps(after_lines),
                totals_before=json.dumps(held["approved"]),
                totals_after=json.dumps(after),
                proposed_by=actor.id,
                created_at=now,
                updated_at=now,
            )
        ).returning(Amendment.id)
        amendment_id = int(rows[0]["id"])
        await history.append(
            "amendment", amendment_id, flow().created_action, actor, to_state=flow().initial, at=now, notes=reason
        )
        await audit.record(
            "amendment.proposed",
            actor_id=actor.id,
            actor=actor.email,
            object_type="amendment",
            object_id=amendment_id,
            details={"application": application_id, "before": held["approved"], "after": after},
        )
    return await get_amendment(amendment_id, actor)


async def load_for_action(amendment_id: int, actor: CurrentUser, lock: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The amendment and its application, 404 unless ``actor`` may see the application; with ``lock`` the
    application is locked first, then the amendment (the one lock order everywhere)."""
    row = await Amendment.select(Amendment.application).where(Amendment.id == amendment_id).first()
    if row is None:
        raise NotFound(_("Amendment %(id)s not found.", id=amendment_id))
    try:
        app = await access.load(int(row["application"]), actor, lock=lock)
    except NotFound:
        raise NotYours(_("Amendment %(id)s not found.", id=amendment_id)) from None
    query = Amendment.select().where(Amendment.id == amendment_id)
    amendment = await (db.for_update(query) if lock else query).first()
    return _decode(amendment), app


async def act(
    amendment_id: int, action: str, actor: CurrentUser, body: dict[str, Any] | None, if_match: int | None
) -> dict[str, Any]:
    """Run one action of the amendment flow (recommend, approve, reject); returns the amendment."""
    await engine.run("amendment", amendment_id, action, actor, body or {}, if_match)
    return await get_amendment(amendment_id, actor)


# --- approval ----------------------------------------------------------------------------------------------------


def tranche_states() -> tuple[frozenset[str], frozenset[str]]:
    """(paid states, states where a payment is on its way) of the tranche flow, by their traits."""
    tranche_flow = loader.flow("tranche")
    paid = frozenset(tranche_flow.states_with("paid"))
    moving = frozenset(tranche_flow.states_with("in_flight")) | frozenset(tranche_flow.states_with("payable"))
    return paid, moving - paid


async def tranches_in_flight(application_id: int) -> list[dict[str, Any]]:
    _paid, moving = tranche_states()
    return await (
        Tranche.select(Tranche.reference, Tranche.component, Tranche.status)
        .where(Tranche.application == application_id, Tranche.status.is_in(list(moving) or [""]))
        .order_by(Tranche.id)
    )


def _tranche_json(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "reference": t["reference"],
        "component": t["component"],
        "seq": int(t["seq"]),
        "amount": int(t["amount"]),
        "status": t["status"],
        "condition": t["condition"],
    }


async def replan(app: dict[str, Any], after: dict[str, int], actor: CurrentUser) -> dict[str, list[dict[str, Any]]]:
    """Fit the unpaid tranches of every component to its new amount (inside the approval's transaction).

    Per component, what is left to pay (new amount − paid) is split over its unpaid tranches by their current
    amounts; a component with nothing unpaid left gets tranches by the workflow's plan. Unpaid tranches whose
    share becomes zero go, unless they have a history (a payment the bank refused), which refuses the
    amendment (409). Paid tranches never change.
    """
    application_id = int(app["id"])
    paid_states, _moving = tranche_states()
    rows = await Tranche.select().where(Tranche.application == application_id).order_by(Tranche.component, Tranche.seq)
    before = [_tranche_json(t) for t in rows]
    now = dt.datetime.now(dt.UTC)
    workflow = loader.get(app["workflow"])
    for component in COMPONENTS:
        mine = [t for t in rows if t["component"] == component]
        paid = sum(int(t["amount"]) for t in mine if t["status"] in paid_states)
        unpaid = [t for t in mine if t["status"] not in paid_states]
        left = after.get(component, 0) - paid
        if left < 0:  # checked before; kept as a last line of defence
            raise Conflict(_("Paid money is never re-planned."), errors=[FieldError(f"budget.{component}", "")])
        pieces = split(left, [max(int(t["amount"]), 1) for t in unpaid]) if unpaid and left else [0] * len(unpaid)
        for tranche, amount in zip(unpaid, pieces, strict=True):
            if amount == int(tranche["amount"]):
                continue
            if amount > 0:
                await Tranche.update(
                    {Tranche.amount: amount, Tranche.version: Tranche.version + 1, Tranche.updated_at: now}
                ).where(Tranche.id == tranche["id"])
            elif await history.events("tranche", int(tranche["id"])):
                raise Conflict(
                    _(
                        "Tranche %(reference)s of %(component)s has a payment history (the bank refused it); "
                        "pay it again before its amount is taken away.",
                        reference=tranche["reference"],
                        component=_component_label(component),
                    ),
                    errors=[FieldError(f"budget.{component}", _("A refused payment waits to be paid again."))],
                )
            else:
                await Tranche.delete().where(Tranche.id == tranche["id"])
        if left > 0 and not unpaid:
            last_seq = max((int(t["seq"]) for t in mine), default=0)
            planned = plan_tranches(workflow.tranches, {component: left})
            if not planned:
                raise Conflict(
                    _("The workflow has no tranche plan for %(component)s.", component=_component_label(component)),
                    errors=[FieldError(f"budget.{component}", _("This component cannot be paid out."))],
                )
            await Tranche.insert(
                *[
                    Tranche(
                        application=application_id,
                        component=component,
                        seq=last_seq + p.seq,
                        amount=p.amount,
                        condition=p.condition,
                        status=loader.flow("tranche").initial,
                        reference=reference(application_id, component, last_seq + p.seq),
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                    for p in planned
                ]
            )
    rows = await Tranche.select().where(Tranche.application == application_id).order_by(Tranche.component, Tranche.seq)
    result = {"before": before, "after": [_tranche_json(t) for t in rows]}
    await audit.record(
        "tranches.replanned",
        actor_id=actor.id,
        actor=actor.email,
        object_type="application",
        object_id=application_id,
        details=result,
    )
    return result


async def apply(amendment: dict[str, Any], app: dict[str, Any], actor: CurrentUser, now: dt.datetime) -> None:
    """The approved amendment takes effect (the effect ``apply_amendment``, in the approval's transaction)."""
    from tkm.ledger import services as ledger

    application_id = int(app["id"])
    after: dict[str, int] = {c: int(v) for c, v in amendment["totals_after"].items()}
    held = await money(application_id)
    # The budget at approval, not at proposal: what the lines replace and what the posting moves from.
    before_lines = await current_lines(application_id)
    await BudgetLine.delete().where(BudgetLine.application == application_id)
    await BudgetLine.insert(
        *[
            BudgetLine(
                application=application_id,
                position=i,
                component=line["component"],
                description=line["description"],
                quantity=line["quantity"],
                unit=line["unit"],
                unit_cost=line["unit_cost"],
                total=line["total"],
            )
            for i, line in enumerate(amendment["lines_after"])
        ]
    )
    await Application.update(
        {
            Application.approved_budget: json.dumps(after),
            Application.approved_total: sum(after.values()),
            Application.updated_at: now,
            Application.version: Application.version + 1,
        }
    ).where(Application.id == application_id)
    tranches = await replan(app, after, actor)
    change = {
        c: after.get(c, 0) - held["approved"].get(c, 0)
        for c in COMPONENTS
        if after.get(c, 0) != held["approved"].get(c, 0)
    }
    txn = await ledger.amend_commitments(
        application_id, change, actor, reference=f"PRB-{amendment['id']}", memo=amendment["reason"][:2000]
    )
    await Amendment.update(
        {
            Amendment.lines_before: json.dumps(before_lines),
            Amendment.totals_before: json.dumps(held["approved"]),
            Amendment.tranches_before: json.dumps(tranches["before"]),
            Amendment.tranches_after: json.dumps(tranches["after"]),
            Amendment.ledger_transaction: txn,
            Amendment.decided_at: now,
        }
    ).where(Amendment.id == amendment["id"])


# --- reading -----------------------------------------------------------------------------------------------------


async def _decree(amendment_id: int, application_id: int) -> dict[str, Any] | None:
    from tkm.documents.tables import Document

    row = await (
        Document.select(Document.id, Document.number, Document.status)
        .where(
            Document.application == application_id,
            Document.kind == "amendment_decree",
            Document.dedupe_key == f"amendment_decree:{application_id}:amendment:{amendment_id}",
        )
        .first()
    )
    return {"id": row["id"], "number": row["number"], "status": row["status"]} if row else None


async def _out(row: dict[str, Any], actor: CurrentUser) -> dict[str, Any]:
    row = _decode(row)
    events = await history.events("amendment", int(row["id"]))
    return {
        "id": row["id"],
        "application_id": row["application"],
        "status": row["status"],
        "status_label": flow().state_label(row["status"]),
        "version": row["version"],
        "reason": row["reason"],
        "budget": row["lines_after"],
        "budget_before": row["lines_before"],
        "totals_before": row["totals_before"],
        "totals_after": row["totals_after"],
        "total_before": sum(int(v) for v in row["totals_before"].values()),
        "total_after": sum(int(v) for v in row["totals_after"].values()),
        "tranches_before": row["tranches_before"],
        "tranches_after": row["tranches_after"],
        "ledger_transaction": row["ledger_transaction"],
        "decree": await _decree(int(row["id"]), int(row["application"])),
        "created_at": row["created_at"].isoformat(),
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
        "history": [
            {
                "action": e["action"],
                "from": e["from_state"],
                "to": e["to_state"],
                "actor": e["actor_name"],
                "actor_role": e["actor_role"],
                "at": e["at"].isoformat(),
                "notes": e["notes"],
            }
            for e in events
        ],
    }


async def get_amendment(amendment_id: int, actor: CurrentUser) -> dict[str, Any]:
    row, _app = await load_for_action(amendment_id, actor, False)
    return await _out(row, actor)


async def list_for_application(application_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    await access.load(application_id, actor)
    rows = await Amendment.select().where(Amendment.application == application_id).order_by(Amendment.id)
    return [await _out(r, actor) for r in rows]


async def decree_data(amendment_id: int) -> dict[str, Any]:
    """What the amendment decree shows besides the application: the reason, before/after per component
    (with what was paid), and the tranches after the re-plan (read inside the approval's transaction)."""
    row = _decode(await Amendment.select().where(Amendment.id == amendment_id).first())
    paid_states, _moving = tranche_states()
    before, after = row["totals_before"], row["totals_after"]
    paid: dict[str, int] = {}
    for t in row["tranches_after"]:
        if t["status"] in paid_states:
            paid[t["component"]] = paid.get(t["component"], 0) + int(t["amount"])
    return {
        "amendment": {
            "id": row["id"],
            "reason": row["reason"],
            "components": [
                {
                    "component": c,
                    "before": int(before.get(c, 0)),
                    "after": int(after.get(c, 0)),
                    "change": int(after.get(c, 0)) - int(before.get(c, 0)),
                    "paid": paid.get(c, 0),
                }
                for c in COMPONENTS
                if before.get(c) or after.get(c)
            ],
            "total_before": sum(int(v) for v in before.values()),
            "total_after": sum(int(v) for v in after.values()),
            "lines": row["lines_after"],
            "tranches": [{**t, "paid": t["status"] in paid_states} for t in row["tranches_after"]],
        }
    }
