"""What workflow files may name, registered by the domains: guards, effects, tranche conditions, record kinds
and the traits of their states.

A domain registers its hooks in the module its ``Domain`` names as ``hooks`` (see ``tkm/domains.py``); the
loader imports them all before validating the files, so a file naming an unknown hook or trait stops
start-up.

- A guard is ``async def guard(ctx, **params) -> Refusal | None``: None lets the action through, a
  ``Refusal`` stops it with a status (409 by default, 403 for separation of duties) and a message for people.
- An effect is ``async def effect(ctx, **params) -> None`` and runs inside the transition's transaction,
  after the state change and the history event.
- A tranche condition is ``async def condition(application_id, tranche) -> str | None`` returning why the
  tranche may not be requested yet.
- A record kind (``application``, ``tranche``, ``report``) tells the transition runner how to load and lock
  a record, whose flow it follows and how people call it.
- A trait is something a state means to the code (``pays_out``: tranches may move). Code asks
  ``flow.states_with("pays_out")``; a required trait must be carried by some state of every flow of its
  record kind, or the file is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piccolo.table import Table

    from tkm.auth.roles import CurrentUser
    from tkm.workflow.definition import Workflow
    from tkm.workflow.engine import TransitionContext


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int = 409
    field: str | None = None
    title: str | None = None
    #: Extra members of the problem document (e.g. ``{"condition": "on_approval"}``).
    extra: dict[str, Any] = dataclass_field(default_factory=dict)


GuardFn = Callable[..., Awaitable[Refusal | None]]
EffectFn = Callable[..., Awaitable[None]]
ConditionFn = Callable[..., Awaitable[str | None]]

GUARDS: dict[str, GuardFn] = {}
EFFECTS: dict[str, EffectFn] = {}
CONDITIONS: dict[str, ConditionFn] = {}


def guard(name: str) -> Callable[[GuardFn], GuardFn]:
    def register(fn: GuardFn) -> GuardFn:
        GUARDS[name] = fn
        return fn

    return register


def effect(name: str) -> Callable[[EffectFn], EffectFn]:
    def register(fn: EffectFn) -> EffectFn:
        EFFECTS[name] = fn
        return fn

    return register


def condition(name: str) -> Callable[[ConditionFn], ConditionFn]:
    def register(fn: ConditionFn) -> ConditionFn:
        CONDITIONS[name] = fn
        return fn

    return register


# --- record kinds and traits ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    """How the transition runner handles one kind of record.

    ``load(record_id, actor, lock)`` returns ``(record, application)``: the record's row and the application it
    belongs to (the same row for an application), after checking that ``actor`` may see it (404 otherwise) and,
    with ``lock``, locking the application first and then the record (the one lock order everywhere).
    """

    name: str
    #: How people call one record, as an English message id (translated when shown): "application".
    noun: str
    table: type[Table]
    load: Callable[[int, CurrentUser, bool], Awaitable[tuple[dict[str, Any], dict[str, Any]]]]
    #: The flow a record follows (applications: their programme's workflow; others: the one flow of the kind).
    flow_of: Callable[[dict[str, Any]], Workflow]
    #: Columns set to the moment of every transition besides status and version (e.g. ``updated_at``).
    touch: tuple[str, ...] = ()
    #: Audit details a transition adds about the record (e.g. a tranche's amount and application).
    audit_details: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class Trait:
    record: str
    name: str
    #: What the code does with states that carry it; shown when a file lacks a required trait.
    meaning: str
    required: bool = True


RECORDS: dict[str, RecordKind] = {}
TRAITS: dict[str, dict[str, Trait]] = {}


def record_kind(kind: RecordKind) -> RecordKind:
    RECORDS[kind.name] = kind
    return kind


def trait(record: str, name: str, meaning: str, *, required: bool = True) -> Trait:
    """Declare that code asks states of ``record`` flows for ``name``; a required one must be on some state."""
    declared = Trait(record, name, meaning, required)
    TRAITS.setdefault(record, {})[name] = declared
    return declared


_loaded = False


def load_hooks() -> None:
    global _loaded
    if _loaded:
        return
    from tkm.domains import hook_modules

    for module in hook_modules():
        __import__(module)
    _loaded = True


async def run_guard(name: str, ctx: TransitionContext, params: dict[str, Any]) -> Refusal | None:
    return await GUARDS[name](ctx, **params)


async def run_effect(name: str, ctx: TransitionContext, params: dict[str, Any]) -> None:
    await EFFECTS[name](ctx, **params)
