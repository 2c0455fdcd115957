"""Tranches: plan on approval, then request → authorize → pay (or fail), idempotent and serialised.

Money moves only through the funds trail (tkm.ledger.services): paying posts
the payment; a bank rejection after payment posts its reversal, so the money
returns to committed and the tranche can be requested again. The finance user
who requests a tranche may not authorize it. Suspending the application
freezes every unpaid tranche.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tkm.applications import access
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db, idempotency
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, NotYours, ValidationProblem
from tkm.core.i18n import _
from tkm.disbursement.plan import plan_tranches, reference
from tkm.disbursement.tables import Tranche, TrancheEvent
from tkm.programmes.services import today
from tkm.workflow import loader, registry

ACTIONS = ("request", "authorize", "pay", "fail")
#: action: (states it may start from, the state it leads to)
MOVES = {
    "request": (("planned", "failed"), "requested"),
    "authorize": (("requested",), "authorized"),
    "pay": (("authorized",), "paid"),
    "fail": (("authorized", "paid"), "failed"),
}
UNPAID = ("planned", "requested", "authorized", "failed")


def tranche_out(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready (also what an Idempotency-Key replays, so no datetimes here)."""
    return {
        "id": row["id"],
        "application_id": row["application"],
        "component": row["component"],
        "seq": row["seq"],
        "amount": row["amount"],
        "status": row["status"],
        "due_condition": row["condition"],
        "reference": row["reference"],
        "version": row["version"],
        "paid_at": row["paid_at"].isoformat() if row["paid_at"] else None,
        "transfer_reference": row["transfer_reference"] or None,
        "requested_by": row["requested_by"],
        "authorized_by": row["authorized_by"],
        "failure_reason": row["failure_reason"] or None,
    }


async def create_plan(ctx_application: dict[str, Any], approved: dict[str, int], actor: CurrentUser) -> list[int]:
    """Create the tranches of a freshly approved application (inside the approval's transaction)."""
    workflow = loader.get(ctx_application["workflow"])
    application_id = int(ctx_application["id"])
    if await Tranche.exists().where(Tranche.application == application_id):
        return []  # an approval that runs again (return to review and approve) keeps the first plan
    now = dt.datetime.now(dt.UTC)
    planned = plan_tranches(workflow.tranches, approved)
    if not planned:
        return []
    rows = await Tranche.insert(
        *[
            Tranche(
                application=application_id,
                component=p.component,
                seq=p.seq,
                amount=p.amount,
                condition=p.condition,
                status="planned",
                reference=reference(application_id, p.component, p.seq),
                version=1,
                created_at=now,
                updated_at=now,
            )
            for p in planned
        ]
    ).returning(Tranche.id)
    await audit.record(
        "tranches.planned",
        actor_id=actor.id,
        actor=actor.email,
        object_type="application",
        object_id=application_id,
        details={"tranches": [(p.component, p.seq, p.amount, p.condition) for p in planned]},
    )
    return [int(r["id"]) for r in rows]


async def freeze(application_id: int, actor: CurrentUser, reason: str) -> int:
    now = dt.datetime.now(dt.UTC)
    rows = await Tranche.select().where(Tranche.application == application_id, Tranche.status.is_in(list(UNPAID)))
    for row in rows:
        await Tranche.update(
            {Tranche.status: "frozen", Tranche.version: row["version"] + 1, Tranche.updated_at: now}
        ).where(Tranche.id == row["id"])
        await _event(row, "freeze", "frozen", actor, now, reason)
    return len(rows)


async def _event(
    row: dict[str, Any], action: str, to_status: str, actor: CurrentUser, now: dt.datetime, notes: str = ""
) -> None:
    last = await db.fetch_one("SELECT COALESCE(MAX(seq), 0) AS seq FROM tranche_events WHERE tranche = {}", row["id"])
    await TrancheEvent.insert(
        TrancheEvent(
            tranche=row["id"],
            seq=int(last["seq"]) + 1 if last else 1,
            action=action,
            from_status=row["status"],
            to_status=to_status,
            actor=actor.id,
            actor_name=actor.name,
            at=now,
            notes=notes,
        )
    )


async def _load(tranche_id: int, actor: CurrentUser, *, lock: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await Tranche.select(Tranche.application).where(Tranche.id == tranche_id).first()
    if row is None:
        raise NotFound(_("Tranche %(id)s not found.", id=tranche_id))
    try:
        # Lock order: the application first (as the workflow engine and the ledger do), then the tranche.
        app = await access.load(int(row["application"]), actor, lock=lock)
    except NotFound:
        raise NotYours(_("Tranche %(id)s not found.", id=tranche_id)) from None
    query = Tranche.select().where(Tranche.id == tranche_id)
    tranche = await (db.for_update(query) if lock else query).first()
    return tranche, app


def _check_body(action: str, body: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    allowed = {"pay": {"transfer_reference", "paid_at"}, "fail": {"reason"}}.get(action, {"notes"})
    for key in body:
        if key not in allowed:
            errors.append(FieldError(key, _("Not expected for this action.")))
    clean: dict[str, Any] = {}
    if action == "pay":
        ref = body.get("transfer_reference")
        if not isinstance(ref, str) or not ref.strip():
            errors.append(FieldError("transfer_reference", _("Give the bank's transfer reference.")))
        elif len(ref) > 100:
            errors.append(FieldError("transfer_reference", _("At most %(n)d characters.", n=100)))
        else:
            clean["transfer_reference"] = ref.strip()
        paid_at = body.get("paid_at")
        try:
            clean["paid_at"] = dt.date.fromisoformat(paid_at) if isinstance(paid_at, str) else None
        except ValueError:
            clean["paid_at"] = None
        if clean["paid_at"] is None:
            errors.append(FieldError("paid_at", _("Give the date of the transfer, e.g. 2020-04-15.")))
        elif clean["paid_at"] > today():
            errors.append(FieldError("paid_at", _("The transfer date cannot be in the future.")))
    elif action == "fail":
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            errors.append(FieldError("reason", _("Say why the bank refused the transfer.")))
        else:
            clean["reason"] = reason.strip()[:2000]
    else:
        notes = body.get("notes", "")
        clean["notes"] = notes.strip() if isinstance(notes, str) else ""
    if errors:
        raise ValidationProblem(errors)
    return clean


async def _move(tranche_id: int, action: str, actor: CurrentUser, clean: dict[str, Any]) -> dict[str, Any]:
    """One tranche action, inside the caller's transaction (idempotency.run opens it)."""
    tranche, app = await _load(tranche_id, actor, lock=True)
    if actor.role != Role.finance:
        raise Forbidden(_("Only finance staff move tranches."))
    sources, target = MOVES[action]
    if tranche["status"] not in sources:
        raise Conflict(
            _("Cannot %(action)s a tranche that is %(state)s.", action=action, state=tranche["status"]),
            extra={"current_status": tranche["status"]},
        )
    if action != "fail" and app["status"] != "active":
        raise Conflict(
            _(
                "Money moves only while the grant is active (agreement signed); this application is %(state)s.",
                state=app["status"],
            ),
            extra={"current_status": app["status"]},
        )
    now = dt.datetime.now(dt.UTC)
    updates: dict[Any, Any] = {Tranche.status: target, Tranche.version: tranche["version"] + 1, Tranche.updated_at: now}
    notes = clean.get("notes", "")
    if action == "request":
        condition = registry.CONDITIONS.get(tranche["condition"])
        reason = await condition(int(app["id"]), tranche) if condition else _("Unknown tranche condition.")
        if reason:
            raise Conflict(reason, title="Condition not met", extra={"condition": tranche["condition"]})
        updates.update(
            {
                Tranche.requested_by: actor.id,
                Tranche.requested_at: now,
                Tranche.failure_reason: "",
                Tranche.authorized_by: None,
                Tranche.authorized_at: None,
            }
        )
    elif action == "authorize":
        if tranche["requested_by"] == actor.id:
            raise Forbidden(_("You requested this tranche; another finance officer must authorize it."))
        updates.update({Tranche.authorized_by: actor.id, Tranche.authorized_at: now})
    elif action == "pay":
        from tkm.ledger import services as ledger

        if app["approved_at"] and clean["paid_at"] < app["approved_at"].date():
            raise ValidationProblem([FieldError("paid_at", _("The transfer cannot be before the approval."))])
        txn = await ledger.record_payment(
            int(app["id"]),
            tranche["component"],
            int(tranche["amount"]),
            clean["transfer_reference"],
            actor,
            paid_on=clean["paid_at"],
        )
        updates.update(
            {
                Tranche.paid_at: clean["paid_at"],
                Tranche.transfer_reference: clean["transfer_reference"],
                Tranche.payment_transaction: txn,
            }
        )
        notes = clean["transfer_reference"]
    elif action == "fail":
        if tranche["status"] == "paid" and tranche["payment_transaction"]:
            from tkm.ledger import services as ledger

            await ledger.reverse(int(tranche["payment_transaction"]), clean["reason"], actor)
        updates.update(
            {Tranche.failure_reason: clean["reason"], Tranche.paid_at: None, Tranche.payment_transaction: None}
        )
        notes = clean["reason"]
    await Tranche.update(updates).where(Tranche.id == tranche_id)
    await _event(tranche, action, target, actor, now, notes)
    moved = tranche_out(await Tranche.select().where(Tranche.id == tranche_id).first())
    await _letters(action, moved, actor)
    await audit.record(
        f"tranche.{action}",
        actor_id=actor.id,
        actor=actor.email,
        object_type="tranche",
        object_id=tranche_id,
        details={
            "application": app["id"],
            "amount": tranche["amount"],
            "component": tranche["component"],
            **{k: str(v) for k, v in clean.items()},
        },
    )
    return moved


async def _letters(action: str, tranche: dict[str, Any], actor: CurrentUser) -> None:
    """The paper a payment leaves, issued in the same transaction: an SPM when a tranche is authorized
    (again after a bank failure: a new one), a BAST when it is paid."""
    from tkm.documents import services as documents

    if action == "authorize":
        await documents.issue_payment_order(tranche, actor=actor, key=f"v{tranche['version']}")
    elif action == "pay":
        await documents.issue_handover_record(tranche, actor=actor)


async def act(
    tranche_id: int, action: str, actor: CurrentUser, body: dict[str, Any] | None, key: str | None
) -> idempotency.Outcome:
    if action not in ACTIONS:
        raise NotFound(_("There is no tranche action %(action)s.", action=action))
    body = body or {}
    clean = _check_body(action, body)

    async def run() -> tuple[int, Any]:
        return 200, await _move(tranche_id, action, actor, clean)

    return await idempotency.run(actor.id, key, f"POST /api/v1/tranches/{tranche_id}/actions/{action}", body, run)


async def list_for_application(application_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    await access.load(application_id, actor)
    rows = await Tranche.select().where(Tranche.application == application_id).order_by(Tranche.component, Tranche.seq)
    return [tranche_out(r) for r in rows]


def _scope(actor: CurrentUser) -> Any:
    if actor.sees_everything:
        return None
    if actor.role == Role.applicant:
        return Tranche.application.applicant == actor.id
    return actor.region_condition(Tranche.application.region)


async def list_tranches(
    actor: CurrentUser,
    status: str | None,
    limit: int,
    offset: int,
    *,
    region: str | None = None,
    programme: str | None = None,
) -> tuple[list, int]:
    """The finance queue: tranches the caller may see, with their group and bank account.

    ``region`` narrows to a region and everything under it; ``programme`` to a programme code.
    """
    query = Tranche.select(
        *Tranche.all_columns(),
        Tranche.application.group_id.name,
        Tranche.application.group_id.bank_name,
        Tranche.application.group_id.bank_account_number,
        Tranche.application.group_id.bank_account_holder,
        Tranche.application.region,
        Tranche.application.programme.code,
    )
    count = Tranche.count()
    conditions = [c for c in (_scope(actor), Tranche.status == status if status else None) if c is not None]
    if region:
        conditions.append((Tranche.application.region == region) | Tranche.application.region.like(region + ".%"))
    if programme:
        conditions.append(Tranche.application.programme.code == programme)
    for cond in conditions:
        query, count = query.where(cond), count.where(cond)
    rows = await query.order_by(Tranche.id).limit(limit).offset(offset)
    items = []
    for r in rows:
        out = tranche_out(r)
        out.update(
            {
                "group": r["application.group_id.name"],
                "region": r["application.region"],
                "programme": r["application.programme.code"],
                "bank_account": {
                    "bank": r["application.group_id.bank_name"],
                    "number": r["application.group_id.bank_account_number"],
                    "holder": r["application.group_id.bank_account_holder"],
                },
            }
        )
        items.append(out)
    return items, await count


async def unpaid_count(application_id: int) -> int:
    return await Tranche.count().where(Tranche.application == application_id, Tranche.status != "paid")


async def status_counts(actor: CurrentUser) -> dict[str, int]:
    """How many tranches the caller may see are in each status (the finance queue's tabs)."""
    from piccolo.query.functions.aggregate import Count

    query = Tranche.select(Tranche.status, Count(Tranche.id, alias="n")).group_by(Tranche.status)
    scope = _scope(actor)
    if scope is not None:
        query = query.where(scope)
    return {row["status"]: int(row["n"]) for row in await query}


async def get_tranche(tranche_id: int, actor: CurrentUser) -> dict[str, Any]:
    """One tranche with its history and the application it belongs to (404 when the caller may not see it)."""
    tranche, app = await _load(tranche_id, actor, lock=False)
    events = await TrancheEvent.select().where(TrancheEvent.tranche == tranche_id).order_by(TrancheEvent.seq)
    out = tranche_out(tranche)
    out["history"] = [
        {
            "action": e["action"],
            "from": e["from_status"],
            "to": e["to_status"],
            "actor": e["actor_name"],
            "at": e["at"].isoformat(),
            "notes": e["notes"],
        }
        for e in events
    ]
    out["application_status"] = app["status"]
    return out


async def action_choices(tranche: dict[str, Any], actor: CurrentUser) -> list[dict[str, Any]]:
    """The actions a page offers on a tranche, each with ``allowed`` and, when not, the reason why.

    The same rules ``_move`` enforces, asked before the user tries; ``_move`` still decides.
    """
    if actor.role != Role.finance:
        return []
    out: list[dict[str, Any]] = []
    active = tranche["application_status"] == "active"
    for action in ACTIONS:
        sources, _target = MOVES[action]
        if tranche["status"] not in sources:
            continue
        reason = ""
        if action != "fail" and not active:
            reason = _(
                "Money moves only while the grant is active (agreement signed); this application is %(state)s.",
                state=tranche["application_status"],
            )
        elif action == "authorize" and tranche["requested_by"] == actor.id:
            reason = _("You requested this tranche; another finance officer must authorize it.")
        elif action == "request":
            condition = registry.CONDITIONS.get(tranche["due_condition"])
            row = await Tranche.select().where(Tranche.id == tranche["id"]).first()
            reason = (
                await condition(int(tranche["application_id"]), row) if condition else _("Unknown tranche condition.")
            ) or ""
        out.append({"name": action, "allowed": not reason, "reason": reason})
    return out
