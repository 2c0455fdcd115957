"""The one transition runner of every flow: applications, tranches, reports, ...

``run(kind, record_id, action, actor, body, if_match)`` does, in one transaction:

lock (the application, then the record) → role → state → If-Match version → body → guards → state change →
history event → audit event → effects.

Either the record moves, its history grows by one event, its audit event is written and every effect
(ledger entries, tranches, letters, outbox rows) is recorded, or nothing is. What a flow allows is read from
its file (``workflows/*.toml`` for applications, ``workflows/flows/*.toml`` for the others); how to load a
kind of record is registered by its domain (``registry.RecordKind``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tkm.auth.roles import ROLE_LABELS, CurrentUser
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, PreconditionFailed, Problem, ValidationProblem
from tkm.core.i18n import _, gettext
from tkm.workflow import history, registry
from tkm.workflow.definition import Action, BodyField, Workflow


@dataclass
class TransitionContext:
    """What guards and effects see.

    ``record`` is the row before the change (JSON decoded); ``application`` the application it belongs to
    (the same row when the record is an application). ``payload`` is what a service validated for an action
    whose body the file does not describe (a corrected report).
    """

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
    record_kind: str = "application"
    record: dict[str, Any] = field(default_factory=dict)
    payload: Any = None

    def __post_init__(self) -> None:
        if not self.record:
            self.record = self.application

    @property
    def application_id(self) -> int:
        return int(self.application["id"])

    @property
    def record_id(self) -> int:
        return int(self.record["id"])


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
            day = dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return _("Must be a date like 2020-03-24.")
        if spec.not_future:
            from tkm.programmes.services import today

            if day > today():
                return _("Cannot be in the future.")
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


def _context(
    kind: str, record: dict[str, Any], application: dict[str, Any], flow: Workflow, action: Action, actor: CurrentUser
) -> TransitionContext:
    return TransitionContext(
        application,
        flow,
        action,
        actor,
        {},
        record["status"],
        action.to,
        dt.datetime.now(dt.UTC),
        record_kind=kind,
        record=record,
    )


async def choices(
    kind: str, record: dict[str, Any], application: dict[str, Any], actor: CurrentUser
) -> list[tuple[Action, str | None]]:
    """Each action of the caller's role from the record's state, with why a guard refuses it now (or None).

    Pages use it to offer buttons and to say why one is missing ("Upload these documents first: ...").
    Internal actions are never offered.
    """
    flow = registry.RECORDS[kind].flow_of(record)
    out: list[tuple[Action, str | None]] = []
    for action in flow.actions_from(record["status"]):
        if action.internal or actor.role not in action.roles:
            continue
        refusal = await _first_refusal(_context(kind, record, application, flow, action, actor))
        out.append((action, refusal.message if refusal else None))
    return out


async def allowed_actions(row: dict[str, Any], actor: CurrentUser) -> list[str]:
    """The actions ``actor`` could take now on an application (role, state, ownership and guards all pass)."""
    return [a.name for a, refusal in await choices("application", row, row, actor) if refusal is None]


async def action_refusals(row: dict[str, Any], actor: CurrentUser) -> dict[str, str]:
    """Actions of the caller's role from the application's state that a guard refuses now, with the reason."""
    return {a.name: refusal for a, refusal in await choices("application", row, row, actor) if refusal is not None}


async def _first_refusal(ctx: TransitionContext) -> registry.Refusal | None:
    for ref in ctx.action.guards:
        refusal = await registry.run_guard(ref.name, ctx, ref.params)
        if refusal is not None:
            return refusal
    return None


def refusal_problem(refusal: registry.Refusal) -> Problem:
    """The problem a guard's refusal answers with: 403 (separation of duties), 422 (a field) or 409."""
    errors = [FieldError(refusal.field, refusal.message)] if refusal.field else []
    extra = refusal.extra or None
    problem: Problem
    if refusal.status == 422:
        problem = ValidationProblem(errors, refusal.message, title=refusal.title, extra=extra)
    else:
        cls: type[Problem] = {403: Forbidden, 409: Conflict}.get(refusal.status, Problem)
        title = refusal.title or ("Not allowed" if refusal.status == 403 else "Conflict")
        problem = cls(refusal.message, status=refusal.status, title=title, errors=errors, extra=extra)
    problem.slug = "forbidden" if refusal.status == 403 else "guard-refused"
    return problem


async def run(
    kind: str,
    record_id: int,
    action_name: str,
    actor: CurrentUser,
    body: dict[str, Any] | None = None,
    if_match: int | None = None,
    *,
    payload: Any = None,
    internal: bool = False,
) -> TransitionContext:
    """Run one action of a record's flow (see the module docstring). ``internal`` lets a service or an effect
    run an action the file marks ``internal``; callers on behalf of a request never pass it."""
    records = registry.RECORDS[kind]
    noun = gettext(records.noun)
    async with db.transaction():
        record, application = await records.load(record_id, actor, True)
        flow = records.flow_of(record)
        action = flow.actions.get(action_name)
        if action is None or (action.internal and not internal):
            raise NotFound(
                _(
                    "There is no action %(action)s in workflow %(workflow)s.",
                    action=action_name,
                    workflow=str(flow.title),
                )
            )
        if actor.role not in action.roles:
            raise Forbidden(
                _(
                    "Your role (%(role)s) may not do this to a %(record)s: %(action)s.",
                    role=gettext(ROLE_LABELS.get(actor.role, actor.role)),
                    record=noun,
                    action=flow.action_label(action_name),
                )
            )
        if if_match is not None and if_match != record["version"]:
            raise PreconditionFailed(
                _(
                    "The %(record)s changed since you read it (version %(now)d, you sent %(sent)d). Reload it.",
                    record=noun,
                    now=record["version"],
                    sent=if_match,
                ),
                extra={"current_version": record["version"]},
            )
        if record["status"] not in action.from_states:
            raise Conflict(
                _(
                    "Not possible while the %(record)s is %(state)s: %(action)s.",
                    action=flow.action_label(action_name),
                    record=noun,
                    state=flow.state_label(record["status"]),
                ),
                extra={"current_status": record["status"]},
            )
        clean = _check_body(action, body or {}, flow)
        ctx = _context(kind, record, application, flow, action, actor)
        ctx.body, ctx.payload = clean, payload
        refusal = await _first_refusal(ctx)
        if refusal is not None:
            raise refusal_problem(refusal)
        table = records.table
        changes: dict[Any, Any] = {table.status: action.to, table.version: table.version + 1}  # type: ignore[attr-defined]
        for column in records.touch:
            changes[getattr(table, column)] = ctx.now
        updated = await (
            table.update(changes)
            .where(table.id == record_id, table.version == record["version"])  # type: ignore[attr-defined]
            .returning(table.version)  # type: ignore[attr-defined]
        )
        if not updated:  # cannot happen under the row lock; kept as a last line of defence
            raise Conflict(_("The %(record)s changed at the same moment. Reload it.", record=noun))
        notes = next((str(clean[k]) for k in ("notes", "reasons", "reason") if clean.get(k)), "")
        ctx.event_id = await history.append(
            kind,
            record_id,
            action.name,
            actor,
            from_state=record["status"],
            to_state=action.to,
            at=ctx.now,
            notes=notes,
            body=clean,
        )
        details: dict[str, Any] = {"from": record["status"], "to": action.to, "body": clean}
        if records.audit_details is not None:
            details.update(records.audit_details(record, application))
        await audit.record(
            f"{kind}.{action.name}",
            actor_id=actor.id,
            actor=actor.email,
            object_type=kind,
            object_id=record_id,
            details=details,
        )
        for ref in action.effects:
            await registry.run_effect(ref.name, ctx, ref.params)
    return ctx


async def perform(
    application_id: int,
    action_name: str,
    actor: CurrentUser,
    body: dict[str, Any] | None = None,
    if_match: int | None = None,
) -> TransitionContext:
    """Run an action of an application's workflow (``run("application", ...)``)."""
    return await run("application", application_id, action_name, actor, body, if_match)
