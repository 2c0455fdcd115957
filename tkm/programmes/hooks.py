"""What the application workflows may name from the programmes domain: the ``within_regional_quota`` guard."""

from __future__ import annotations

import json
from typing import Any

from tkm.programmes import quotas
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, guard


def _budget_to_approve(application: dict[str, Any]) -> int:
    """The total the approval commits: the reviewer's recommendation (see ``approve_recommended_budget``)."""
    budget = application.get("recommended_budget") or {}
    if isinstance(budget, str):
        budget = json.loads(budget) or {}
    return sum(int(v) for v in budget.values() if v)


@guard("within_regional_quota")
async def within_regional_quota(ctx: TransitionContext) -> Refusal | None:
    """Every quota covering the application's region must have room for its budget (409 with what is left).

    Placed before the effects, so a refusal writes nothing. In the transition it locks the programme's row
    first (after the application, the one lock order), so concurrent approvals in one region cannot both use
    the last of a quota.
    """
    needed = _budget_to_approve(ctx.application)
    short = await quotas.shortfall(int(ctx.application["programme"]), str(ctx.application["region"]), needed, lock=True)
    if short is None:
        return None
    return Refusal(
        quotas.shortfall_message(short, needed),
        title=quotas.QUOTA_EXHAUSTED,
        extra={"region": short.region, "quota": short.quota, "used": short.used, "left": short.left, "needed": needed},
    )
