"""Named guards, effects and tranche conditions that workflow files refer to.

A domain registers its hooks in a module listed in ``HOOK_MODULES``; the
loader imports them all before validating the files, so a file naming an
unknown hook stops start-up.

- A guard is ``async def guard(ctx, **params) -> Refusal | None``: None lets
  the action through, a ``Refusal`` stops it with a status (409 by default,
  403 for separation of duties) and a message for people.
- An effect is ``async def effect(ctx, **params) -> None`` and runs inside the
  transition's transaction, after the state change and the history event.
- A tranche condition is ``async def condition(application_id, tranche) -> str | None``
  returning why the tranche may not be requested yet (used by disbursement).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tkm.workflow.engine import TransitionContext

#: Modules that register hooks; import order does not matter.
HOOK_MODULES = [
    "tkm.workflow.builtin",
    "tkm.ledger.hooks",
    "tkm.reports.hooks",
    "tkm.disbursement.hooks",
    "tkm.documents.hooks",
    "tkm.dashboard.hooks",
]


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int = 409
    field: str | None = None


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


_loaded = False


def load_hooks() -> None:
    global _loaded
    if _loaded:
        return
    for module in HOOK_MODULES:
        import_module(module)
    _loaded = True


async def run_guard(name: str, ctx: TransitionContext, params: dict[str, Any]) -> Refusal | None:
    return await GUARDS[name](ctx, **params)


async def run_effect(name: str, ctx: TransitionContext, params: dict[str, Any]) -> None:
    await EFFECTS[name](ctx, **params)
