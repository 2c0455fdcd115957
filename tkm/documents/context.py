"""What each letter shows, read from the database once and frozen into the document at issue time.

Everything here is plain JSON (dates as ISO strings) so the snapshot can be
stored in ``documents.context`` and rendered again, byte for byte, later.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm import regions
from tkm.applications.tables import Application, Attachment, BudgetLine
from tkm.core.errors import NotFound
from tkm.core.i18n import _
from tkm.documents import cycle, summary
from tkm.documents.kinds import (
    ATTACHMENT_LABELS,
    COMPONENT_LABELS,
    CONDITION_LABELS,
    EXPENSE_LABELS,
    LEDGER_KIND_LABELS,
    MEMBER_ROLE_LABELS,
    words_for,
)
from tkm.groups.tables import Group, Member
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.services import JAKARTA
from tkm.programmes.tables import Programme, TrainingCentre
from tkm.workflow import history, loader

#: The funds trail's totals (API.md: Funds trail).
TRAIL_TOTALS = (
    "approved",
    "disbursed",
    "spent",
    "revenue",
    "reinvested",
    "unspent",
    "grant_spent",
    "returned",
    "own_spent",
    "own_balance",
    "released",
)


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def local_date(value: dt.datetime | None) -> str | None:
    """The calendar date in Western Indonesia time (what a letter prints)."""
    return value.astimezone(JAKARTA).date().isoformat() if value is not None else None


def region_path(code: str) -> str:
    """``Kota Padang, Sumatera Barat`` (most specific first)."""
    return ", ".join(r.name for r in reversed(regions.lineage(code))) or code


def component_label(component: str) -> str:
    """A budget component or, on spending lines, an expense category, in words."""
    return COMPONENT_LABELS.get(component) or EXPENSE_LABELS.get(component) or component.replace("_", " ").capitalize()


def _label(workflow: Any, kind: str, name: str) -> str:
    items = workflow.states if kind == "state" else workflow.actions
    item = items.get(name)
    return item.label.id if item is not None else name


async def application_part(application_id: int) -> dict[str, Any]:
    """The application, its programme, group, members, budget, history and attachments."""
    app = await Application.select().where(Application.id == application_id).first()
    if app is None:
        raise NotFound(_("Application %(id)s not found.", id=application_id))
    workflow = loader.get(app["workflow"])
    programme = await Programme.select().where(Programme.id == app["programme"]).first()
    group = await Group.select().where(Group.id == app["group_id"]).first()
    centre = None
    if group["training_centre"]:
        centre = (
            await TrainingCentre.select(TrainingCentre.code, TrainingCentre.name, TrainingCentre.kind)
            .where(TrainingCentre.id == group["training_centre"])
            .first()
        )
    members = await Member.select().where(Member.group_id == group["id"]).order_by(Member.position).order_by(Member.id)
    lines = await (
        BudgetLine.select()
        .where(BudgetLine.application == application_id)
        .order_by(BudgetLine.position)
        .order_by(BudgetLine.id)
    )
    events = await history.events("application", application_id)
    attachments = await (
        Attachment.select(Attachment.kind, Attachment.filename, Attachment.uploaded_at)
        .where(Attachment.application == application_id)
        .order_by(Attachment.id)
    )
    requested: dict[str, int] = {}
    for line in lines:
        requested[line["component"]] = requested.get(line["component"], 0) + int(line["total"])
    approved = {k: int(v) for k, v in (_loads(app["approved_budget"]) or {}).items()}
    plan = _loads(app["business_plan"]) or {}
    member_rows = [
        {
            "name": m["name"],
            "nik": m["nik"],
            "role": m["role"],
            "role_label": MEMBER_ROLE_LABELS.get(m["role"], m["role"]),
            "gender": m["gender"],
        }
        for m in members
    ]
    leader = next((m for m in member_rows if m["role"] == "ketua"), member_rows[0] if member_rows else None)
    return {
        "application": {
            "id": app["id"],
            "status": app["status"],
            "status_label": _label(workflow, "state", app["status"]),
            "workflow": app["workflow"],
            "workflow_title": workflow.title.id,
            "region": app["region"],
            "region_name": regions.name(app["region"]),
            "region_path": region_path(app["region"]),
            "requested_total": int(app["requested_total"]) or sum(requested.values()),
            "approved_total": int(app["approved_total"]),
            "created_on": local_date(app["created_at"]),
            "submitted_on": local_date(app["submitted_at"]),
            "approved_on": local_date(app["approved_at"]),
            "score": app["score"],
            "business_plan": {
                "summary": str(plan.get("summary") or ""),
                "market": str(plan.get("market") or ""),
                "workers": plan.get("workers"),
            },
        },
        "budget": [
            {
                "component": c,
                "label": component_label(c),
                "requested": requested.get(c, 0),
                "approved": approved.get(c, 0),
            }
            for c in COMPONENTS
            if c in requested or c in approved
        ],
        "budget_lines": [
            {
                "component": line["component"],
                "label": component_label(line["component"]),
                "description": line["description"],
                "quantity": int(line["quantity"]),
                "unit": line["unit"],
                "unit_cost": int(line["unit_cost"]),
                "total": int(line["total"]),
            }
            for line in lines
        ],
        "programme": {
            "code": programme["code"],
            "name": programme["name"],
            "fiscal_year": programme["fiscal_year"],
            "account_code": str(programme.get("account_code") or ""),
            "budget_reference": str(programme.get("budget_reference") or ""),
        },
        "group": {
            "id": group["id"],
            "name": group["name"],
            "address": group["address"],
            "region": group["region"],
            "region_name": regions.name(group["region"]),
            "region_path": region_path(group["region"]),
            "products": _loads(group["products"]) or [],
            "bank": {
                "name": group["bank_name"],
                "number": group["bank_account_number"],
                "holder": group["bank_account_holder"],
            },
            "training_centre": dict(centre) if centre else None,
            "member_count": len(member_rows),
        },
        "members": member_rows,
        "leader": leader,
        "history": [
            {
                "id": e["id"],
                "seq": e["seq"],
                "action": e["action"],
                "action_label": _label(workflow, "action", e["action"]),
                "from_label": _label(workflow, "state", e["from_state"]),
                "to_label": _label(workflow, "state", e["to_state"]),
                "actor_name": e["actor_name"],
                "actor_role": e["actor_role"],
                "at": iso(e["at"]),
                "on": local_date(e["at"]),
                "notes": e["notes"],
            }
            for e in events
        ],
        "attachments": [
            {"kind": a["kind"], "label": ATTACHMENT_LABELS.get(a["kind"], a["kind"]), "filename": a["filename"]}
            for a in attachments
        ],
    }


def _event(part: dict[str, Any], subject_key: str) -> dict[str, Any] | None:
    """The history event a letter answers (subject ``event:<id>``), else the latest one."""
    history = part["history"]
    if subject_key.startswith("event:"):
        wanted = int(subject_key.split(":", 1)[1])
        return next((e for e in history if e["id"] == wanted), None)
    return history[-1] if history else None


def _latest(part: dict[str, Any], action: str) -> dict[str, Any] | None:
    return next((e for e in reversed(part["history"]) if e["action"] == action), None)


def _tranche(data: dict[str, Any], *, paid: bool) -> dict[str, Any]:
    t = data["tranche"]
    out = {
        "id": int(t["id"]),
        "component": t["component"],
        "label": component_label(t["component"]),
        "seq": int(t.get("seq") or 1),
        "amount": int(t["amount"]),
        "due_condition": words_for(
            str(t.get("due_condition") or ""), CONDITION_LABELS, "sesuai ketentuan petunjuk teknis program"
        )
        if t.get("due_condition")
        else "",
    }
    if paid:
        out |= {"paid_on": day_of(t["paid_at"]), "transfer_reference": str(t.get("transfer_reference") or "")}
    return out


def day_of(value: dt.datetime | dt.date | str) -> str:
    """The calendar date (ISO) of a timestamp in Western Indonesia time; a plain date stays as it is."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return local_date(value if value.tzinfo else value.replace(tzinfo=dt.UTC)) or ""
    return value.isoformat()


def _checkpoint() -> dict[str, str] | None:
    """The latest signed checkpoint of the chains (its signature and day), which the letter prints so that a
    reader can hold the database to it later."""
    from tkm.core import checkpoints

    latest = checkpoints.latest()
    return {"hash": latest["hash"], "on": day_of(latest["at"])} if latest else None


async def build(
    kind: str, *, application_id: int | None, subject_key: str, data: dict[str, Any] | None
) -> dict[str, Any]:
    """The kind-specific part of a letter's context."""
    data = data or {}
    if kind == "programme_summary":
        return {
            **await programme_part(int(data["programme_id"]), str(data.get("region") or "")),
            "checkpoint": _checkpoint(),
        }
    if kind == "collective_decree":
        return await cycle.collective_part(data)
    if application_id is None:
        raise ValueError(f"{kind} needs an application")
    part = await application_part(application_id)
    if kind in cycle.APPLICATION_KINDS:
        if kind in ("commitment_statement", "cooperation_agreement", "accountability_report"):
            part["event"] = _event(part, subject_key)
        return await cycle.build(kind, part, application_id, data)
    if kind in ("submission_receipt", "revision_request", "rejection_letter", "approval_decree", "termination_letter"):
        part["event"] = _event(part, subject_key)
    if kind == "termination_letter":
        part["decree"] = await decree_of(application_id)
        part["money"] = await _money_at_termination(application_id, part["budget"])
    if kind == "rejection_letter":
        earlier = _latest(part, "not_recommend")
        part["review_reasons"] = earlier["notes"] if earlier else ""
    if kind == "approval_decree":
        part["verification"] = verification_record(part)
    if kind in ("payment_order", "handover_record", "funds_trail", "return_receipt", "amendment_decree"):
        part["decree"] = await decree_of(application_id)
    if kind == "funds_trail":
        part["checkpoint"] = _checkpoint()
    if kind == "payment_order":
        part["tranche"] = _tranche(data, paid=False)
        part["cumulative"] = await _cumulative(application_id, part["tranche"], part["budget"])
    elif kind == "handover_record":
        part["tranche"] = _tranche(data, paid=True)
    elif kind == "return_receipt":
        deposit = data["return"] if "return" in data else data
        part["deposit"] = {
            "amount": int(deposit["amount"]),
            "deposited_on": str(deposit["deposited_on"]),
            "ntpn": str(deposit["ntpn"]),
            "notes": str(deposit.get("notes") or ""),
            "parts": [
                {"component": c, "label": component_label(c), "amount": int(a)}
                for c, a in (deposit.get("by_component") or {}).items()
            ],
        }
    elif kind == "amendment_decree":
        amendment = data["amendment"]
        part["amendment"] = {
            "id": int(amendment["id"]),
            "reason": str(amendment["reason"]),
            "components": [{**row, "label": component_label(row["component"])} for row in amendment["components"]],
            "total_before": int(amendment["total_before"]),
            "total_after": int(amendment["total_after"]),
            "lines": [{**line, "label": component_label(line["component"])} for line in amendment["lines"]],
            "tranches": [{**t, "label": component_label(t["component"])} for t in amendment["tranches"]],
        }
    elif kind == "funds_trail":
        part["entries"] = [
            {
                "at": iso(e["at"]) if isinstance(e["at"], dt.date) else str(e["at"]),
                "on": day_of(e["at"]),
                "kind": str(e["kind"]),
                "kind_label": words_for(str(e["kind"]), LEDGER_KIND_LABELS, "Transaksi lain"),
                "component": str(e.get("component") or ""),
                "label": component_label(str(e.get("component") or "")) if e.get("component") else "",
                "amount": int(e["amount"]),
                "reference": str(e.get("reference") or ""),
                "actor": str(e.get("actor") or ""),
                "balance_after": int(e["balance_after"]),
            }
            for e in data["entries"]
        ]
        part["totals"] = {k: int(data["totals"].get(k) or 0) for k in TRAIL_TOTALS}
    return part


async def _money_at_termination(application_id: int, budget: list[dict[str, Any]]) -> dict[str, Any]:
    """Per component what the decree approved, what was paid and what went back to the programme (read in the
    terminating transaction, after its release)."""
    from tkm.ledger import services as ledger

    totals = await ledger.totals(application_id)
    released = await ledger.released(application_id)
    paid = {c: int(v["disbursed"]) for c, v in totals["components"].items()}
    decreed = {row["component"]: int(row["approved"]) for row in budget}
    rows = [
        {
            "component": c,
            "label": component_label(c),
            "approved": decreed.get(c, 0),
            "paid": paid.get(c, 0),
            "released": released.get(c, 0),
        }
        for c in COMPONENTS
        if decreed.get(c) or paid.get(c) or released.get(c)
    ]
    return {
        "components": rows,
        "approved": sum(r["approved"] for r in rows),
        "paid": sum(r["paid"] for r in rows),
        "released": sum(r["released"] for r in rows),
        "unspent": max(0, int(totals["unspent"])),
    }


async def decree_of(application_id: int) -> dict[str, Any] | None:
    """The approval decree payments and handovers rest on: its number and its own date (the decision's), once
    issued."""
    own = await cycle.letter_of(application_id, "approval_decree")
    # Approved with others: the collective decree its extract cites.
    return own if own is not None else await cycle.collective_of(application_id)


#: The history actions that close the verification (the berita acara verifikasi), latest first wins.
VERIFICATION_ACTIONS = ("recommend", "verify_field")


def verification_record(part: dict[str, Any]) -> dict[str, Any] | None:
    """The berita acara verifikasi an SK rests on: the reviewers' recommendation event, numbered by its event
    (``BA-VER/<application>/<event>``: the verification has no register of its own), and dated on it."""
    event = next((e for e in reversed(part["history"]) if e["action"] in VERIFICATION_ACTIONS), None)
    if event is None:
        return None
    on = dt.date.fromisoformat(event["on"])
    return {
        "number": f"{event['id']:03d}/BA-VER/{part['application']['id']}/{on.year}",
        "on": event["on"],
        "by": event["actor_name"],
        "score": part["application"]["score"],
    }


async def _cumulative(application_id: int, tranche: dict[str, Any], budget: list[dict[str, Any]]) -> dict[str, Any]:
    """An SPM's cumulative columns, per component and for the whole grant: paid before this SPM, this SPM,
    and what remains of the decree after it."""
    from tkm.ledger import services as ledger

    totals = await ledger.totals(application_id)
    paid = {c: int(v["disbursed"]) for c, v in totals["components"].items()}
    rows = []
    for line in budget:
        c = line["component"]
        this = tranche["amount"] if c == tranche["component"] else 0
        approved = int(line["approved"])
        if not approved and not paid.get(c) and not this:
            continue
        before = paid.get(c, 0)
        rows.append(
            {
                "component": c,
                "label": line["label"],
                "approved": approved,
                "paid_before": before,
                "this": this,
                "remaining": approved - before - this,
            }
        )
    return {
        "rows": rows,
        "approved": sum(r["approved"] for r in rows),
        "paid_before": sum(r["paid_before"] for r in rows),
        "this": sum(r["this"] for r in rows),
        "remaining": sum(r["remaining"] for r in rows),
    }


def dated_on(kind: str, part: dict[str, Any], data: dict[str, Any], today: dt.date) -> dt.date:
    """The day a letter is dated: the day of the event it records, not the day it is rendered or issued.

    A decision, a submission, a request for revision: its history event. A payment order: the authorization;
    a BAST: the payment; a deposit receipt: the deposit. Reports (funds trail, programme summary) are dated on
    the day they are made ("keadaan per tanggal").
    """
    day: str | None = None
    if kind == "handover_record":
        day = part["tranche"].get("paid_on")
    elif kind == "payment_order":
        t = data.get("tranche") or {}
        moment = t.get("authorized_at")
        day = day_of(moment) if moment else None
    elif kind == "return_receipt":
        day = part["deposit"]["deposited_on"]
    elif part.get("event"):
        day = part["event"]["on"]
    return dt.date.fromisoformat(day[:10]) if day else today


async def programme_part(programme_id: int, region: str) -> dict[str, Any]:
    programme = await Programme.select().where(Programme.id == programme_id).first()
    if programme is None:
        raise NotFound(_("Programme not found."))
    figures = await summary.programme_figures(programme_id, region)
    return {
        "programme": {
            "code": programme["code"],
            "name": programme["name"],
            "fiscal_year": programme["fiscal_year"],
            "budget_ceiling": int(programme["budget_ceiling"]),
        },
        "scope": {
            "region": region,
            "name": region_path(region) if region else "Seluruh wilayah",
        },
        "figures": figures,
    }
