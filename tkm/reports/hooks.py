"""What other parts of the workflow ask of reports: tranche conditions and the final-report guard."""

from __future__ import annotations

from typing import Any

from tkm.core.i18n import _
from tkm.reports.tables import Report
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, condition, guard


async def accepted_reports(application_id: int) -> int:
    return await Report.count().where(Report.application == application_id, Report.status == "accepted")


@condition("after_first_accepted_report")
async def after_first_accepted_report(application_id: int, tranche: dict[str, Any]) -> str | None:
    if await accepted_reports(application_id) < 1:
        return _("This tranche waits for the group's first accepted monthly report.")
    return None


@condition("after_accepted_reports")
async def after_accepted_reports(application_id: int, tranche: dict[str, Any]) -> str | None:
    """The n-th tranche of a component needs n − 1 accepted monthly reports (wages paid month by month)."""
    needed = int(tranche["seq"]) - 1
    have = await accepted_reports(application_id)
    if have < needed:
        return _(
            "This tranche waits for %(needed)d accepted monthly reports (%(have)d so far).", needed=needed, have=have
        )
    return None


@guard("final_report_accepted")
async def final_report_accepted(ctx: TransitionContext) -> Refusal | None:
    accepted = await Report.exists().where(
        Report.application == ctx.application_id, Report.final.eq(True), Report.status == "accepted"
    )
    if not accepted:
        return Refusal(_("The group's final report must be accepted first."), field="reports")
    return None
