"""What the application workflows (workflows/*.toml) may name from the applications domain: the application
record kind, the traits its states carry, and its guards, effects and the ``on_approval`` tranche condition.
"""

from __future__ import annotations

import json
from typing import Any

from tkm.applications import access
from tkm.applications.tables import Application, Attachment
from tkm.auth.roles import CurrentUser
from tkm.auth.tables import User
from tkm.core.i18n import N_, _
from tkm.groups.tables import Group, Member
from tkm.programmes.tables import Programme
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import RecordKind, Refusal, condition, effect, guard, record_kind, trait


async def _load(application_id: int, actor: CurrentUser, lock: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await access.load(application_id, actor, lock=lock)
    return row, row


record_kind(
    RecordKind(
        "application",
        N_("application"),
        Application,
        _load,
        flow_of=lambda row: loader.get(row["workflow"]),
        touch=("updated_at",),
    )
)
trait("application", "final", "no action leads on from it; the group may apply again in the programme")
trait("application", "holds_grant", "the group holds a grant; one person (NIK) may be in one such group only")
trait("application", "grant_completed", "the grant is finished; TKM Lanjutan is for groups with such a grant")
trait("application", "editable", "the applicant may change the plan, the budget and the members", required=False)


@guard("required_attachments")
async def required_attachments(ctx: TransitionContext, kinds: list[str]) -> Refusal | None:
    rows = await Attachment.select(Attachment.kind).where(Attachment.application == ctx.application_id)
    present = {r["kind"] for r in rows}
    missing = [k for k in kinds if k not in present]
    if missing:
        from tkm.applications.kinds import label

        names = ", ".join(label(k) for k in missing)
        return Refusal(_("Upload these documents first: %(kinds)s.", kinds=names), field="attachments")
    return None


@guard("members_within_limits")
async def members_within_limits(ctx: TransitionContext) -> Refusal | None:
    programme = (
        await Programme.select(Programme.min_members, Programme.max_members)
        .where(Programme.id == ctx.application["programme"])
        .first()
    )
    count = await Member.count().where(Member.group_id == ctx.application["group_id"])
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


@guard("no_conflict_of_interest")
async def no_conflict_of_interest(ctx: TransitionContext) -> Refusal | None:
    """A reviewer may not review a group one of whose members shares their phone or e-mail."""
    me = await User.select(User.phone, User.email).where(User.id == ctx.actor.id).first()
    group = (
        await Group.select(Group.owner.email, Group.owner.phone).where(Group.id == ctx.application["group_id"]).first()
    )
    phones = {
        r["phone"] for r in await Member.select(Member.phone).where(Member.group_id == ctx.application["group_id"])
    }
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
    if not nik_list:
        return {}
    states = sorted({s for name in loader.names() for s in loader.get(name).grant_states()})
    if not states:
        return {}
    query = (
        Member.select(Member.nik, Member.group_id.name, Member.group_id.id)
        .where(Member.nik.is_in(nik_list))
        .where(
            Member.group_id.id.is_in(Application.select(Application.group_id).where(Application.status.is_in(states)))
        )
    )
    if exclude_group is not None:
        query = query.where(Member.group_id != exclude_group)
    return {r["nik"]: r["group_id.name"] for r in await query}


@guard("no_member_in_other_grant")
async def no_member_in_other_grant(ctx: TransitionContext) -> Refusal | None:
    niks = [r["nik"] for r in await Member.select(Member.nik).where(Member.group_id == ctx.application["group_id"])]
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
        Application.group_id == ctx.application["group_id"],
        Application.workflow == workflow,
        Application.status.is_in(list(loader.get(workflow).states_with("grant_completed")) or [""]),
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


@condition("on_approval")
async def on_approval(application_id: int, tranche: dict[str, Any]) -> str | None:
    """Payable as soon as the application is approved (the tranche exists only then)."""
    return None
