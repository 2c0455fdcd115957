"""Guards and effects that belong to the applications domain itself.

Other domains register theirs in their own modules (see registry.HOOK_MODULES):
the ledger commits budgets, disbursement plans tranches, documents issue letters.
"""

from __future__ import annotations

import json
from typing import Any

from tkm.applications.tables import Application, ApplicationEvent, Attachment
from tkm.auth.tables import User
from tkm.core import db
from tkm.core.i18n import _
from tkm.groups.tables import Group, Member
from tkm.programmes.tables import Programme
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, condition, effect, guard


@guard("required_attachments")
async def required_attachments(ctx: TransitionContext, kinds: list[str]) -> Refusal | None:
    rows = await Attachment.select(Attachment.kind).where(Attachment.application == ctx.application_id)
    present = {r["kind"] for r in rows}
    missing = [k for k in kinds if k not in present]
    if missing:
        return Refusal(_("Upload these documents first: %(kinds)s.", kinds=", ".join(missing)), field="attachments")
    return None


@guard("members_within_limits")
async def members_within_limits(ctx: TransitionContext) -> Refusal | None:
    programme = (
        await Programme.select(Programme.min_members, Programme.max_members)
        .where(Programme.id == ctx.application["programme"])
        .first()
    )
    count = await Member.count().where(Member.group == ctx.application["group_id"])
    if programme and not programme["min_members"] <= count <= programme["max_members"]:
        return Refusal(
            _(
                "The group has %(count)d members; this programme needs %(min)d to %(max)d.",
                count=count,
                min=programme["min_members"],
                max=programme["max_members"],
            ),
            status=409,
            field="members",
        )
    return None


@guard("programme_open")
async def programme_open(ctx: TransitionContext) -> Refusal | None:
    from tkm.programmes.services import today

    row = (
        await Programme.select(Programme.opens_on, Programme.closes_on, Programme.code)
        .where(Programme.id == ctx.application["programme"])
        .first()
    )
    if row and not row["opens_on"] <= today() <= row["closes_on"]:
        return Refusal(
            _(
                "Programme %(code)s is not open (it runs from %(opens)s to %(closes)s).",
                code=row["code"],
                opens=row["opens_on"].isoformat(),
                closes=row["closes_on"].isoformat(),
            ),
            field="programme",
        )
    return None


@guard("not_same_actor")
async def not_same_actor(ctx: TransitionContext, as_action: str) -> Refusal | None:
    """Separation of duties: whoever last did ``as_action`` on this application may not do this one."""
    last = await (
        ApplicationEvent.select(ApplicationEvent.actor)
        .where(ApplicationEvent.application == ctx.application_id, ApplicationEvent.action == as_action)
        .order_by(ApplicationEvent.seq, ascending=False)
        .first()
    )
    if last is not None and last["actor"] == ctx.actor.id:
        return Refusal(
            _(
                "You did %(other)s on this application; another person must %(action)s it.",
                other=as_action,
                action=ctx.action.name,
            ),
            status=403,
        )
    return None


@guard("no_conflict_of_interest")
async def no_conflict_of_interest(ctx: TransitionContext) -> Refusal | None:
    """A reviewer may not review a group one of whose members shares their phone or e-mail."""
    me = await User.select(User.phone, User.email).where(User.id == ctx.actor.id).first()
    group = (
        await Group.select(Group.owner.email, Group.owner.phone).where(Group.id == ctx.application["group_id"]).first()
    )
    phones = {r["phone"] for r in await Member.select(Member.phone).where(Member.group == ctx.application["group_id"])}
    if group:
        phones.add(group["owner.phone"])
    phones.discard("")
    if me and ((me["phone"] and me["phone"] in phones) or (group and me["email"] == group["owner.email"])):
        return Refusal(
            _("Your phone number or e-mail matches a member of this group: ask another reviewer."), status=403
        )
    return None


async def grant_holders(nik_list: list[str], exclude_group: int | None = None) -> dict[str, str]:
    """NIK → name of another group that holds a grant (an application in a holds_grant state)."""
    from tkm.workflow import loader

    if not nik_list:
        return {}
    states = sorted({s for name in loader.names() for s in loader.get(name).grant_states()})
    if not states:
        return {}
    query = (
        Member.select(Member.nik, Member.group.name, Member.group.id)
        .where(Member.nik.is_in(nik_list))
        .where(Member.group.id.is_in(Application.select(Application.group).where(Application.status.is_in(states))))
    )
    if exclude_group is not None:
        query = query.where(Member.group != exclude_group)
    return {r["nik"]: r["group.name"] for r in await query}


@guard("no_member_in_other_grant")
async def no_member_in_other_grant(ctx: TransitionContext) -> Refusal | None:
    niks = [r["nik"] for r in await Member.select(Member.nik).where(Member.group == ctx.application["group_id"])]
    clashes = await grant_holders(niks, exclude_group=int(ctx.application["group_id"]))
    if clashes:
        nik, other = next(iter(sorted(clashes.items())))
        return Refusal(
            _("NIK %(nik)s is already a member of %(group)s, which holds an active grant.", nik=nik, group=other),
            field="members",
        )
    return None


@guard("completed_grant")
async def completed_grant(ctx: TransitionContext, workflow: str) -> Refusal | None:
    """The group finished a grant of ``workflow`` (TKM Lanjutan follows a completed TKM Pemula)."""
    done = await Application.exists().where(
        Application.group == ctx.application["group_id"],
        Application.workflow == workflow,
        Application.status == "completed",
    )
    if not done:
        return Refusal(
            _("This programme is for groups that completed a %(workflow)s grant.", workflow=workflow), field="group_id"
        )
    return None


@guard("recommended_within_request")
async def recommended_within_request(ctx: TransitionContext) -> Refusal | None:
    from tkm.applications.budget import totals_by_component

    requested = await totals_by_component(ctx.application_id)
    for component, amount in (ctx.body.get("recommended_budget") or {}).items():
        if amount > requested.get(component, 0):
            return Refusal(
                _(
                    "The recommended %(component)s (%(amount)s) is more than was requested (%(asked)s).",
                    component=component,
                    amount=amount,
                    asked=requested.get(component, 0),
                ),
                status=422,
                field=f"recommended_budget.{component}",
            )
    return None


@effect("record_recommendation")
async def record_recommendation(ctx: TransitionContext) -> None:
    scores: dict[str, int] = ctx.body["scores"]
    weights = {c.criterion: c.weight for c in ctx.workflow.rubric}
    # Each criterion scores 1..5; the weighted score is out of 100.
    score = round(sum(weights[k] * v for k, v in scores.items()) / 5)
    await Application.update(
        {
            Application.scores: json.dumps(scores),
            Application.score: score,
            Application.recommended_budget: json.dumps(ctx.body["recommended_budget"]),
        }
    ).where(Application.id == ctx.application_id)


@effect("approve_recommended_budget")
async def approve_recommended_budget(ctx: TransitionContext) -> None:
    """The approved budget is the reviewer's recommendation; later effects read it from ctx.results."""
    budget: dict[str, int] = {k: int(v) for k, v in (ctx.application.get("recommended_budget") or {}).items() if v}
    ctx.results["approved_budget"] = budget
    await Application.update(
        {
            Application.approved_budget: json.dumps(budget),
            Application.approved_total: sum(budget.values()),
            Application.approved_at: ctx.now,
        }
    ).where(Application.id == ctx.application_id)


@effect("stamp_submitted")
async def stamp_submitted(ctx: TransitionContext) -> None:
    await Application.update({Application.submitted_at: ctx.now}).where(Application.id == ctx.application_id)


@effect("notify")
async def notify_effect(ctx: TransitionContext, to: str, subject: str, body: str) -> None:
    """Mail the applicant or the region's staff of a role; subject/body are message ids with %(…)s fields."""
    from tkm.notifications.services import notify

    recipients: list[str] = []
    if to == "applicant":
        row = await User.select(User.email).where(User.id == ctx.application["applicant"]).first()
        recipients = [row["email"]] if row else []
    else:
        rows = await User.select(User.email, User.regions).where(User.role == to, User.active.eq(True))
        region = ctx.application["region"]
        for r in rows:
            scopes = json.loads(r["regions"]) if isinstance(r["regions"], str) else r["regions"]
            if any(region == s or region.startswith(s + ".") for s in scopes):
                recipients.append(r["email"])
    group = await Group.select(Group.name).where(Group.id == ctx.application["group_id"]).first()
    fields: dict[str, Any] = {
        "id": ctx.application_id,
        "group": group["name"] if group else "",
        "action": ctx.action.name,
        "notes": ctx.body.get("notes") or ctx.body.get("reasons") or "",
    }
    for email in recipients:
        await notify(
            f"app-{ctx.application_id}-event-{ctx.event_id}-{email}", email, _(subject, **fields), _(body, **fields)
        )


@condition("on_approval")
async def on_approval(application_id: int, tranche: dict[str, Any]) -> str | None:
    """Payable as soon as the application is approved (the tranche exists only then)."""
    return None


async def event_count(application_id: int) -> int:
    row = await db.fetch_one("SELECT COUNT(*) AS n FROM application_events WHERE application = {}", application_id)
    return int(row["n"]) if row else 0
