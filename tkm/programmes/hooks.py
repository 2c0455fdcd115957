"""What the application workflows may name from the programmes domain: the ``within_regional_quota`` guard."""

from __future__ import annotations

import json
from typing import Any

from tkm.programmes import quotas
from tkm.workflow.engine import TransitionContext, refusal_problem
from tkm.workflow.registry import Refusal, effect, guard


def _budget_to_approve(application: dict[str, Any]) -> int:
    """The total the approval commits: the reviewer's recommendation (see ``approve_recommended_budget``)."""
    budget = application.get("recommended_budget") or {}
    if isinstance(budget, str):
        budget = json.loads(budget) or {}
    return sum(int(v) for v in budget.values() if v)


@guard("within_regional_quota")
async def within_regional_quota(ctx: TransitionContext) -> Refusal | None:
    """Every quota covering the application's region must have room for its budget (409 with what is left).

    Placed before the effects, so a refusal writes nothing. It takes no lock: the programme's row is locked
    later, by the commitment (after the audit event, the one lock order), and ``hold_regional_quota`` checks
    again under that lock, so concurrent approvals in one region cannot both use the last of a quota.
    """
    needed = _budget_to_approve(ctx.application)
    short = await quotas.shortfall(int(ctx.application["programme"]), str(ctx.application["region"]), needed)
    return None if short is None else _refusal(short, needed)


def _refusal(short: quotas.QuotaUse, needed: int) -> Refusal:
    return Refusal(
        quotas.shortfall_message(short, needed),
        title=quotas.QUOTA_EXHAUSTED,
        extra={"region": short.region, "quota": short.quota, "used": short.used, "left": short.left, "needed": needed},
    )


@effect("hold_regional_quota")
async def hold_regional_quota(ctx: TransitionContext) -> None:
    """After ``commit_budget``, which holds the programme's row until the approval commits: the quotas still
    hold with this approval's commitment in them (an approval that raced another one is refused here)."""
    needed = _budget_to_approve(ctx.application)
    programme, region = int(ctx.application["programme"]), str(ctx.application["region"])
    short = await quotas.shortfall(programme, region, needed, counted=needed)
    if short is not None:
        raise refusal_problem(_refusal(short, needed))
