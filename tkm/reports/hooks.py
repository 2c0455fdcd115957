"""What the flows may name from reports: the report record kind and its trait ``accepted``, the application
traits ``reports_due`` and ``final_report_due``, the tranche conditions that wait for accepted reports, the
final-report guard, and the effects of the report flow (review stamps, posting to the funds trail, the
corrected report)."""

from __future__ import annotations

from typing import Any

from tkm.core.i18n import N_, _
from tkm.reports import services
from tkm.reports.tables import Report
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import RecordKind, Refusal, condition, effect, guard, record_kind, trait

record_kind(
    RecordKind(
        "report",
        N_("report"),
        Report,
        services.load_for_action,
        flow_of=lambda _row: loader.flow("report"),
        audit_details=lambda report, _app: {"application": report["application"], "period": report["period"]},
    )
)
trait("application", "reports_due", "monthly reports are filed (and reminded) only while the grant is in it")
trait("application", "final_report_due", "the final report may still be filed in it", required=False)
trait("report", "accepted", "the report counts: tranche conditions, the final-report check and the dashboard")


async def accepted_reports(application_id: int) -> int:
    return await Report.count().where(
        Report.application == application_id, Report.status.is_in(list(services.flow().states_with("accepted")))
    )


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
        Report.application == ctx.application_id,
        Report.final.eq(True),
        Report.status.is_in(list(services.flow().states_with("accepted"))),
    )
    if not accepted:
        return Refusal(_("The group's final report must be accepted first."), field="reports")
    return None


@effect("stamp_report_review")
async def stamp_report_review(ctx: TransitionContext) -> None:
    await Report.update(
        {
            Report.review_notes: ctx.body.get("notes", ""),
            Report.reviewed_by: ctx.actor.id,
            Report.reviewed_at: ctx.now,
        }
    ).where(Report.id == ctx.record_id)


@effect("post_report")
async def post_report(ctx: TransitionContext) -> None:
    """Post the accepted report's expenses, revenue and reinvestment to the funds trail (dated by its period)."""
    transaction = await services.post_to_funds_trail(ctx.record, ctx.actor)
    await Report.update({Report.ledger_transaction: transaction}).where(Report.id == ctx.record_id)


@effect("rewrite_report")
async def rewrite_report(ctx: TransitionContext) -> None:
    """The corrected report the service checked (``ctx.payload``) replaces the old content."""
    await services.rewrite(ctx.record, ctx.application, ctx.payload, ctx.now)
