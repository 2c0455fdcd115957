"""Workflow hooks of disbursement: plan tranches on approval, freeze them on suspension, and the
guard that every tranche is paid before an application is completed."""

from __future__ import annotations

from tkm.core.i18n import _
from tkm.disbursement import services
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, effect, guard


@effect("plan_tranches")
async def plan_tranches(ctx: TransitionContext) -> None:
    """Split the approved budget into tranches by the workflow's plan (after approve_recommended_budget)."""
    approved = ctx.results.get("approved_budget")
    if approved is None:
        raise RuntimeError(f"workflow {ctx.workflow.name}: plan_tranches needs approve_recommended_budget before it")
    ctx.results["tranches"] = await services.create_plan(ctx.application, approved, ctx.actor)


@effect("freeze_tranches")
async def freeze_tranches(ctx: TransitionContext) -> None:
    reason = str(ctx.body.get("reasons") or ctx.body.get("notes") or ctx.action.name)
    ctx.results["frozen_tranches"] = await services.freeze(ctx.application_id, ctx.actor, reason)


@guard("all_tranches_paid")
async def all_tranches_paid(ctx: TransitionContext) -> Refusal | None:
    unpaid = await services.unpaid_count(ctx.application_id)
    if unpaid:
        return Refusal(_("%(n)d tranche(s) are not paid yet.", n=unpaid), field="tranches")
    return None
