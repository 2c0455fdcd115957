"""What the flows may name from amendments: the amendment record kind and its traits ``pending`` and
``in_force``, the tranche trait ``in_flight``, the guards of the amendment flow (the grant pays out, no
payment on its way, the money still fits) and its effects (apply the approved amendment, stamp a decision)."""

from __future__ import annotations

from tkm.amendments import services
from tkm.amendments.tables import Amendment
from tkm.core.i18n import N_, _
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import RecordKind, Refusal, effect, guard, record_kind, trait

record_kind(
    RecordKind(
        "amendment",
        N_("budget amendment"),
        Amendment,
        services.load_for_action,
        flow_of=lambda _row: loader.flow("amendment"),
        touch=("updated_at",),
        audit_details=lambda amendment, _app: {
            "application": amendment["application"],
            "before": amendment["totals_before"],
            "after": amendment["totals_after"],
        },
    )
)
trait("amendment", "pending", "waiting for a decision; a grant has at most one such amendment")
trait("amendment", "in_force", "approved: the amended budget replaced the application's")
trait("tranche", "in_flight", "the payment is on its way (as in payable states); a budget amendment waits for it")


@guard("amendment_grant_pays_out")
async def amendment_grant_pays_out(ctx: TransitionContext) -> Refusal | None:
    """A budget is amended only while the grant is in a state with the trait ``pays_out``."""
    workflow = loader.get(ctx.application["workflow"])
    if workflow.has(ctx.application["status"], "pays_out"):
        return None
    return Refusal(
        _(
            "A budget can be amended only while the grant is active; this application is %(state)s.",
            state=workflow.state_label(ctx.application["status"]),
        ),
        extra={"current_status": ctx.application["status"]},
    )


@guard("no_tranche_in_flight")
async def no_tranche_in_flight(ctx: TransitionContext) -> Refusal | None:
    """No tranche is requested or authorized: the plan does not change under a payment on its way."""
    moving = await services.tranches_in_flight(ctx.application_id)
    if moving:
        return Refusal(
            _(
                "A payment is on its way (%(references)s); approve the amendment once it is paid or refused.",
                references=", ".join(t["reference"] for t in moving),
            ),
            title="Payment in flight",
            field="tranches",
            extra={"tranches": [t["reference"] for t in moving]},
        )
    return None


@guard("amendment_still_fits")
async def amendment_still_fits(ctx: TransitionContext) -> Refusal | None:
    """The money rules again at approval: payments since the proposal may have used what it moves."""
    held = await services.money(ctx.application_id)
    after = {c: int(v) for c, v in ctx.record["totals_after"].items()}
    errors = services.check_money(after, held["approved"], held["disbursed"])
    if errors:
        return Refusal(errors[0].message, field=errors[0].field)
    return None


@effect("apply_amendment")
async def apply_amendment(ctx: TransitionContext) -> None:
    await services.apply(ctx.record, ctx.application, ctx.actor, ctx.now)


@effect("stamp_amendment_decision")
async def stamp_amendment_decision(ctx: TransitionContext) -> None:
    await Amendment.update({Amendment.decided_at: ctx.now}).where(Amendment.id == ctx.record_id)
