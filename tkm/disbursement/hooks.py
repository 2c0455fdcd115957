"""What the flows may name from disbursement: the tranche record kind and its traits, the application trait
``pays_out``, the tranche guards and effects (conditions, payment, bank failure), planning tranches on
approval, freezing them on suspension, and the guard that every tranche is paid before completion."""

from __future__ import annotations

import datetime as dt

from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import N_, _
from tkm.disbursement import services
from tkm.disbursement.tables import Tranche
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import CONDITIONS, RecordKind, Refusal, effect, guard, record_kind, trait

record_kind(
    RecordKind(
        "tranche",
        N_("tranche"),
        Tranche,
        services.load_for_action,
        flow_of=lambda _row: loader.flow("tranche"),
        touch=("updated_at",),
        audit_details=lambda tranche, app: {
            "application": app["id"],
            "amount": tranche["amount"],
            "component": tranche["component"],
        },
    )
)
trait("application", "pays_out", "tranches are requested, authorized and paid only while the grant is in it")
trait("tranche", "paid", "the money reached the group; a grant is complete when all its tranches are paid")
trait("tranche", "payable", "the tranche is in the bank's payment batch, and a bank statement line pays it")


# --- on the application's workflow -------------------------------------------------------------------------------


@effect("plan_tranches")
async def plan_tranches(ctx: TransitionContext) -> None:
    """Split the approved budget into tranches by the workflow's plan (after approve_recommended_budget)."""
    approved = ctx.results.get("approved_budget")
    if approved is None:
        raise RuntimeError(f"workflow {ctx.workflow.name}: plan_tranches needs approve_recommended_budget before it")
    ctx.results["tranches"] = await services.create_plan(ctx.application, approved, ctx.actor)


@effect("freeze_tranches")
async def freeze_tranches(ctx: TransitionContext) -> None:
    """Run the tranche flow's ``freeze`` action on every tranche of the grant that it can reach."""
    reason = str(ctx.body.get("reasons") or ctx.body.get("notes") or ctx.action.name)
    ctx.results["frozen_tranches"] = await services.freeze(ctx.application_id, ctx.actor, reason)


@guard("all_tranches_paid")
async def all_tranches_paid(ctx: TransitionContext) -> Refusal | None:
    unpaid = await services.unpaid_count(ctx.application_id)
    if unpaid:
        return Refusal(_("%(n)d tranche(s) are not paid yet.", n=unpaid), field="tranches")
    return None


# --- on the tranche flow (workflows/flows/tranche.toml) ---------------------------------------------------------


@guard("grant_pays_out")
async def grant_pays_out(ctx: TransitionContext) -> Refusal | None:
    """Money moves only while the application is in a state with the trait ``pays_out``."""
    workflow = loader.get(ctx.application["workflow"])
    if workflow.has(ctx.application["status"], "pays_out"):
        return None
    return Refusal(
        _(
            "Money moves only while the grant is active (agreement signed); this application is %(state)s.",
            state=workflow.state_label(ctx.application["status"]),
        ),
        extra={"current_status": ctx.application["status"]},
    )


@guard("tranche_condition_met")
async def tranche_condition_met(ctx: TransitionContext) -> Refusal | None:
    """The tranche's condition from the plan (e.g. after_first_accepted_report) holds."""
    name = ctx.record["condition"]
    check = CONDITIONS.get(name)
    reason = await check(ctx.application_id, ctx.record) if check else _("Unknown tranche condition.")
    if reason:
        return Refusal(reason, title="Condition not met", extra={"condition": name})
    return None


@effect("stamp_tranche_request")
async def stamp_tranche_request(ctx: TransitionContext) -> None:
    await Tranche.update(
        {
            Tranche.requested_by: ctx.actor.id,
            Tranche.requested_at: ctx.now,
            Tranche.failure_reason: "",
            Tranche.authorized_by: None,
            Tranche.authorized_at: None,
        }
    ).where(Tranche.id == ctx.record_id)


@effect("stamp_tranche_authorization")
async def stamp_tranche_authorization(ctx: TransitionContext) -> None:
    await Tranche.update({Tranche.authorized_by: ctx.actor.id, Tranche.authorized_at: ctx.now}).where(
        Tranche.id == ctx.record_id
    )


@effect("post_payment")
async def post_payment(ctx: TransitionContext) -> None:
    """Post the payment to the funds trail (dated by the transfer) and keep its reference on the tranche."""
    from tkm.ledger import services as ledger

    paid_on = dt.date.fromisoformat(ctx.body["paid_at"])
    approved_at = ctx.application["approved_at"]
    if approved_at and paid_on < approved_at.date():
        raise ValidationProblem([FieldError("paid_at", _("The transfer cannot be before the approval."))])
    txn = await ledger.record_payment(
        ctx.application_id,
        ctx.record["component"],
        int(ctx.record["amount"]),
        ctx.body["transfer_reference"],
        ctx.actor,
        paid_on=paid_on,
    )
    await Tranche.update(
        {
            Tranche.paid_at: paid_on,
            Tranche.transfer_reference: ctx.body["transfer_reference"],
            Tranche.payment_transaction: txn,
        }
    ).where(Tranche.id == ctx.record_id)


@effect("reverse_payment")
async def reverse_payment(ctx: TransitionContext) -> None:
    """The bank refused the transfer: a posted payment is reversed, so the money returns to committed."""
    if ctx.record["payment_transaction"]:
        from tkm.ledger import services as ledger

        await ledger.reverse(int(ctx.record["payment_transaction"]), ctx.body["reason"], ctx.actor)
        if loader.get(ctx.application["workflow"]).has(ctx.application["status"], "final"):
            # The grant pays no more (terminated, completed): what came back goes on to the programme.
            await ledger.release_commitments(ctx.application_id, ctx.actor, f"fail: {ctx.body['reason']}"[:2000])
    await Tranche.update(
        {Tranche.failure_reason: ctx.body["reason"], Tranche.paid_at: None, Tranche.payment_transaction: None}
    ).where(Tranche.id == ctx.record_id)
