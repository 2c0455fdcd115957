"""Workflow effects of the ledger: ``commit_budget`` (after ``approve_recommended_budget``) and
``release_commitments`` (money that will not be paid goes back to the programme)."""

from __future__ import annotations

from tkm.ledger import services
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import effect


@effect("commit_budget")
async def commit_budget(ctx: TransitionContext) -> None:
    """Commit the approved budget in the funds trail, in the approval's own transaction.

    Reads ``ctx.results["approved_budget"]``, left there by ``approve_recommended_budget``, which must
    come first in the action's effects. A programme without enough budget left refuses the approval (409).
    """
    if "approved_budget" not in ctx.results:
        raise RuntimeError(
            f"workflow {ctx.workflow.name}: action {ctx.action.name}: the commit_budget effect needs "
            "approve_recommended_budget before it"
        )
    budget = {k: int(v) for k, v in ctx.results["approved_budget"].items() if v}
    txn_id = await services.commit_budget(ctx.application_id, int(ctx.application["programme"]), budget, ctx.actor)
    ctx.results["commit_transaction"] = txn_id


@effect("release_commitments")
async def release_commitments(ctx: TransitionContext) -> None:
    """Give what stays committed back to the programme, in the action's own transaction (a terminated grant
    after ``freeze_tranches``, a completed grant's remainder). Leaves the rupiah released in
    ``ctx.results["released"]``."""
    reason = str(ctx.body.get("reasons") or ctx.body.get("notes") or "")
    memo = f"{ctx.action.name}: {reason}" if reason else ctx.action.name
    ctx.results["released"] = await services.release_commitments(ctx.application_id, ctx.actor, memo[:2000])
