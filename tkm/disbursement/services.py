"""Tranches: plan on approval, then move them through the tranche flow (``workflows/flows/tranche.toml``:
request → authorize → pay, or fail), idempotent and serialised.

The flow file says who may do what from which state, with which guards (the grant pays out, the tranche's
condition holds, the requester does not authorize) and effects (the payment posted to the funds trail, its
reversal when the bank refuses it, the letters); the one transition runner (``tkm.workflow.engine.run``)
does it. Money moves only through the funds trail (tkm.ledger.services). Suspending the application freezes
every tranche the flow's ``freeze`` action can reach.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tkm.applications import access
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db, idempotency
from tkm.core.errors import NotFound, NotYours
from tkm.core.i18n import _
from tkm.disbursement.plan import plan_tranches, reference
from tkm.disbursement.tables import Tranche
from tkm.workflow import engine, history, loader


def flow() -> Any:
    return loader.flow("tranche")


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
                status=flow().initial,
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
    """Freeze every tranche of the grant that the flow's ``freeze`` action can reach (inside the caller's
    transaction); returns how many were frozen."""
    reachable = list(flow().actions["freeze"].from_states)
    rows = await Tranche.select(Tranche.id).where(
        Tranche.application == application_id, Tranche.status.is_in(reachable)
    )
    for row in rows:
        await engine.run("tranche", int(row["id"]), "freeze", actor, {"reason": reason[:4000]}, internal=True)
    return len(rows)


async def load_for_action(tranche_id: int, actor: CurrentUser, lock: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tranche and its application, 404 unless ``actor`` may see the application; with ``lock``, the
    application is locked first (as the workflow engine and the ledger do), then the tranche."""
    row = await Tranche.select(Tranche.application).where(Tranche.id == tranche_id).first()
    if row is None:
        raise NotFound(_("Tranche %(id)s not found.", id=tranche_id))
    try:
        app = await access.load(int(row["application"]), actor, lock=lock)
    except NotFound:
        raise NotYours(_("Tranche %(id)s not found.", id=tranche_id)) from None
    query = Tranche.select().where(Tranche.id == tranche_id)
    tranche = await (db.for_update(query) if lock else query).first()
    return tranche, app


async def act(
    tranche_id: int, action: str, actor: CurrentUser, body: dict[str, Any] | None, key: str | None
) -> idempotency.Outcome:
    """Run one action of the tranche flow, at most once per Idempotency-Key."""
    body = body or {}

    async def run() -> tuple[int, Any]:
        await engine.run("tranche", tranche_id, action, actor, body)
        return 200, tranche_out(await Tranche.select().where(Tranche.id == tranche_id).first())

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
    status: str | Sequence[str] | None,
    limit: int,
    offset: int,
    *,
    region: str | None = None,
    programme: str | None = None,
) -> tuple[list, int]:
    """The finance queue: tranches the caller may see (in ``status``: one state or several), with their group
    and bank account.

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
    wanted = [status] if isinstance(status, str) else list(status or ())
    conditions = [c for c in (_scope(actor), Tranche.status.is_in(wanted) if wanted else None) if c is not None]
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
                    "number": account_number_for(actor, r["application.group_id.bank_account_number"]),
                    "holder": r["application.group_id.bank_account_holder"],
                },
            }
        )
        items.append(out)
    return items, await count


def account_number_for(actor: CurrentUser, number: str | None) -> str:
    """Bank account numbers go to finance staff only (they make the transfers); others see the last digits."""
    number = number or ""
    if actor.role == Role.finance:
        return number
    return "•" * max(0, len(number) - 4) + number[-4:]


async def unpaid_count(application_id: int) -> int:
    return await Tranche.count().where(
        Tranche.application == application_id, Tranche.status.not_in(list(flow().states_with("paid")))
    )


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
    tranche, app = await load_for_action(tranche_id, actor, False)
    out = tranche_out(tranche)
    out["history"] = [
        {
            "action": e["action"],
            "from": e["from_state"],
            "to": e["to_state"],
            "actor": e["actor_name"],
            "at": e["at"].isoformat(),
            "notes": e["notes"],
        }
        for e in await history.events("tranche", tranche_id)
    ]
    out["application_status"] = app["status"]
    return out


async def action_choices(tranche_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    """The actions a page offers on a tranche, each with ``allowed`` and, when not, the reason why.

    The flow's own guards, asked before the user tries; the runner still decides.
    """
    tranche, app = await load_for_action(tranche_id, actor, False)
    return [
        {
            "name": action.name,
            "label": str(action.label),
            "style": action.style,
            "allowed": not reason,
            "reason": reason or "",
            "body": [f.name for f in action.body],
        }
        for action, reason in await engine.choices("tranche", tranche, app, actor)
    ]
