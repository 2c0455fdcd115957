"""Run one workflow action: role, region, state, If-Match, body, guards; then state, history, effects.

All of it happens in one transaction: either the application moves, its
history grows by one event, its audit event is written and every effect
(ledger entries, tranches, letters, outbox rows) is recorded, or nothing is.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from tkm.applications import access
from tkm.applications.tables import Application, ApplicationEvent
from tkm.auth.roles import CurrentUser
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, PreconditionFailed, Problem, ValidationProblem
from tkm.core.i18n import _
from tkm.workflow import loader, registry
from tkm.workflow.definition import Action, BodyField, Workflow


@dataclass
class TransitionContext:
    """What guards and effects see. ``application`` is the row before the change (JSON decoded)."""

    application: dict[str, Any]
    workflow: Workflow
    action: Action
    actor: CurrentUser
    body: dict[str, Any]
    from_state: str
    to_state: str
    now: dt.datetime
    event_id: int | None = None
    #: Effects may leave results here for later effects (e.g. the approved budget).
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def application_id(self) -> int:
        return int(self.application["id"])


def _check_body(action: Action, body: dict[str, Any], workflow: Workflow) -> dict[str, Any]:
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    declared = {f.name: f for f in action.body}
    for name in body:
        if name not in declared:
            errors.append(FieldError(name, _("Not expected for this action.")))
    for spec in action.body:
        value = body.get(spec.name)
        problem = _check_field(spec, value, workflow)
        if problem:
            errors.append(FieldError(spec.name, problem))
        elif value is not None:
            clean[spec.name] = value.strip() if isinstance(value, str) else value
    if errors:
        raise ValidationProblem(errors)
    return clean


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_field(spec: BodyField, value: Any, workflow: Workflow) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return _("This field is required.") if spec.required else None
    if spec.type == "text":
        if not isinstance(value, str):
            return _("Must be text.")
        if len(value) > spec.max_length:
            return _("At most %(n)d characters.", n=spec.max_length)
    elif spec.type == "true":
        if value is not True:
            return _("Must be true to go on.")
    elif spec.type == "bool":
        if not isinstance(value, bool):
            return _("Must be true or false.")
    elif spec.type == "int":
        if not _is_int(value):
            return _("Must be a whole number.")
    elif spec.type == "date":
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return _("Must be a date like 2020-03-24.")
    elif spec.type == "scores":
        if not isinstance(value, dict):
            return _("Give a score from 1 to 5 for each criterion.")
        expected = {c.criterion for c in workflow.rubric}
        missing = expected - set(value)
        unknown = set(value) - expected
        if missing:
            return _("Missing scores for: %(names)s.", names=", ".join(sorted(missing)))
        if unknown:
            return _("Unknown criteria: %(names)s.", names=", ".join(sorted(unknown)))
        if not all(_is_int(v) and 1 <= v <= 5 for v in value.values()):
            return _("Each score is a whole number from 1 to 5.")
    elif spec.type == "amounts":
        from tkm.programmes.schemas import COMPONENTS

        if not isinstance(value, dict) or not value:
            return _("Give an amount in rupiah for each component.")
        for name, amount in value.items():
            if name not in COMPONENTS:
                return _("Unknown component %(name)s.", name=name)
            if not _is_int(amount) or amount < 0:
                return _("Amounts are whole rupiah, zero or more.")
    return None


def parse_if_match(header: str | None) -> int | None:
    """``If-Match: "3"`` (or ``W/"3"`` or ``3``) → 3."""
    if header is None or not header.strip() or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise ValidationProblem([FieldError("If-Match", _('Send the version you read, e.g. "3".'))]) from None


async def allowed_actions(row: dict[str, Any], actor: CurrentUser) -> list[str]:
    """The actions ``actor`` could take now (role, state, ownership and guards all pass)."""
    workflow = loader.get(row["workflow"])
    allowed = []
    for action in workflow.actions_from(row["status"]):
        if actor.role not in action.roles:
            continue
        ctx = TransitionContext(row, workflow, action, actor, {}, row["status"], action.to, dt.datetime.now(dt.UTC))
        if await _first_refusal(ctx) is None:
            allowed.append(action.name)
    return allowed


async def action_refusals(row: dict[str, Any], actor: CurrentUser) -> dict[str, str]:
    """Actions of the caller's role from the current state that a guard refuses now, with the reason.

    Pages use it to say why a button is missing ("Upload these documents first: ...").
    """
    workflow = loader.get(row["workflow"])
    refused: dict[str, str] = {}
    for action in workflow.actions_from(row["status"]):
        if actor.role not in action.roles:
            continue
        ctx = TransitionContext(row, workflow, action, actor, {}, row["status"], action.to, dt.datetime.now(dt.UTC))
        refusal = await _first_refusal(ctx)
        if refusal is not None:
            refused[action.name] = refusal.message
    return refused


async def _first_refusal(ctx: TransitionContext) -> registry.Refusal | None:
    for ref in ctx.action.guards:
        refusal = await registry.run_guard(ref.name, ctx, ref.params)
        if refusal is not None:
            return refusal
    return None


async def perform(
    application_id: int,
    action_name: str,
    actor: CurrentUser,
    body: dict[str, Any] | None = None,
    if_match: int | None = None,
) -> TransitionContext:
    body = body or {}
    async with db.transaction():
        row = await access.load(application_id, actor, lock=True)
        workflow = loader.get(row["workflow"])
        action = workflow.actions.get(action_name)
        if action is None:
            raise NotFound(
                _("There is no action %(action)s in workflow %(workflow)s.", action=action_name, workflow=workflow.name)
            )
        if actor.role not in action.roles:
            raise Forbidden(
                _("Your role (%(role)s) may not %(action)s an application.", role=actor.role, action=action_name)
            )
        if if_match is not None and if_match != row["version"]:
            raise PreconditionFailed(
                _(
                    "The application changed since you read it (version %(now)d, you sent %(sent)d). Reload it.",
                    now=row["version"],
                    sent=if_match,
                ),
                extra={"current_version": row["version"]},
            )
        if row["status"] not in action.from_states:
            raise Conflict(
                _(
                    "Cannot %(action)s an application that is %(state)s.",
                    action=action_name,
                    state=str(workflow.states[row["status"]].label),
                ),
                extra={"current_status": row["status"]},
            )
        clean = _check_body(action, body, workflow)
        now = dt.datetime.now(dt.UTC)
        ctx = TransitionContext(row, workflow, action, actor, clean, row["status"], action.to, now)
        refusal = await _first_refusal(ctx)
        if refusal is not None:
            problem = Problem(
                refusal.message,
                status=refusal.status,
                title="Not allowed" if refusal.status == 403 else "Conflict",
                errors=[FieldError(refusal.field, refusal.message)] if refusal.field else None,
            )
            problem.slug = "forbidden" if refusal.status == 403 else "guard-refused"
            raise problem
        updated = await (
            Application.update(
                {
                    Application.status: action.to,
                    Application.version: Application.version + 1,
                    Application.updated_at: now,
                }
            )
            .where(Application.id == application_id, Application.version == row["version"])
            .returning(Application.version)
        )
        if not updated:  # cannot happen under the row lock; kept as a last line of defence
            raise Conflict(_("The application changed at the same moment. Reload it."))
        seq_row = await db.fetch_one(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM application_events WHERE application = {}", application_id
        )
        notes = next((str(clean[k]) for k in ("notes", "reasons", "reason") if clean.get(k)), "")
        event = await ApplicationEvent.insert(
            ApplicationEvent(
                application=application_id,
                seq=int(seq_row["seq"]) + 1 if seq_row else 1,
                action=action.name,
                from_state=row["status"],
                to_state=action.to,
                actor=actor.id,
                actor_name=actor.name,
                actor_role=actor.role,
                at=now,
                notes=notes,
                body=json.dumps(clean),
            )
        ).returning(ApplicationEvent.id)
        ctx.event_id = int(event[0]["id"])
        await audit.record(
            f"application.{action.name}",
            actor_id=actor.id,
            actor=actor.email,
            object_type="application",
            object_id=application_id,
            details={"from": row["status"], "to": action.to, "body": clean},
        )
        for ref in action.effects:
            await registry.run_effect(ref.name, ctx, ref.params)
    return ctx
