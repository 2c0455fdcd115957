"""Workflow hooks of the ledger: ``commit_budget`` (after ``approve_recommended_budget``), ``release_commitments``
(money that will not be paid goes back to the programme), and the guards that
a grant's unspent money is returned (or waived) before it is completed."""

from __future__ import annotations

from tkm.core.i18n import _
from tkm.core.money import rupiah
from tkm.ledger import services
from tkm.workflow import history
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, effect, guard


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


@guard("grant_money_settled")
async def grant_money_settled(ctx: TransitionContext) -> Refusal | None:
    """A grant is completed only once its grant money is spent or returned to the treasury, unless the
    approver waived the rest (the action ``waive_unspent``, whose reason the history keeps)."""
    unspent = await services.grant_unspent(ctx.application_id)
    if not unspent or await history.last_actor("application", ctx.application_id, "waive_unspent") is not None:
        return None
    return Refusal(
        _(
            "%(amount)s of grant money is neither spent nor returned to the state treasury: record its deposit "
            "(with the NTPN), or the approver waives it with a reason.",
            amount=rupiah(unspent),
        ),
        field="returns",
        extra={"grant_unspent": unspent},
    )


@guard("grant_money_unspent")
async def grant_money_unspent(ctx: TransitionContext) -> Refusal | None:
    """Only a grant that still holds unspent money has anything to waive."""
    if await services.grant_unspent(ctx.application_id):
        return None
    return Refusal(_("No grant money is left unspent."))
