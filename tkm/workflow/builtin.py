"""Guards and effects any flow may name: separation of duties and e-mail notices.

Domains register their own in the modules their ``Domain`` names as ``hooks``: applications (attachments,
members, the approved budget), the ledger (commit the budget), disbursement (plan and pay tranches),
reports (tranche conditions), documents (issue letters).
"""

from __future__ import annotations

import json
from typing import Any

from tkm.auth.tables import User
from tkm.core.i18n import _
from tkm.groups.tables import Group
from tkm.workflow import history
from tkm.workflow.definition import Label
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, effect, guard


@guard("not_same_actor")
async def not_same_actor(
    ctx: TransitionContext, as_action: str | list[str], message: dict[str, str] | None = None
) -> Refusal | None:
    """Separation of duties: whoever last did ``as_action`` (or any one of several) to this record may not do
    this one (the recommender does not approve, the requester of a payment does not authorize it).

    ``message`` (``{id, en}``, optional) says it in the flow's own words.
    """
    actions = [as_action] if isinstance(as_action, str) else list(as_action)
    done = [a for a in actions if await history.last_actor(ctx.record_kind, ctx.record_id, a) == ctx.actor.id]
    if done:
        if message:
            return Refusal(str(Label(message["id"], message["en"])), status=403)
        return Refusal(
            _(
                "You did “%(other)s” here; another person must do “%(action)s”.",
                other=" / ".join(ctx.workflow.action_label(a) for a in done),
                action=ctx.workflow.action_label(ctx.action.name),
            ),
            status=403,
        )
    return None


@effect("notify")
async def notify_effect(ctx: TransitionContext, to: str, subject: Any, body: Any) -> None:
    """Mail the applicant, or the staff of one role covering the application's region.

    ``subject`` and ``body`` are ``{id, en}`` tables in the workflow file with ``%(id)s`` (the application),
    ``%(group)s``, ``%(notes)s`` and, for a report, ``%(period)s`` fields; mail goes out in Bahasa Indonesia.
    """
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
        "period": ctx.record.get("period", ""),
    }
    # One mail per event and recipient (the key is the mail's dedupe key): app-<id>-event-..., report-<id>-...
    prefix = "app" if ctx.record_kind == "application" else ctx.record_kind
    for email in recipients:
        await notify(
            f"{prefix}-{ctx.record_id}-event-{ctx.event_id}-{email}",
            email,
            _text(subject) % fields,
            _text(body) % fields,
        )


def _text(value: Any) -> str:
    return value["id"] if isinstance(value, dict) else str(value)
