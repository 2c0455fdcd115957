"""The parsed shape of a workflow file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tkm.core.i18n import get_language

#: Field types an action's body may declare.
FIELD_TYPES = ("text", "true", "bool", "scores", "amounts", "date", "int")


@dataclass(frozen=True)
class Label:
    id: str
    en: str

    def __str__(self) -> str:
        return self.en if get_language() == "en" else self.id


@dataclass(frozen=True)
class State:
    name: str
    label: Label
    #: What the state means to the code (``holds_grant``, ``pays_out``, ``final``, ...): code asks for
    #: traits, never for state names. Each flow's known traits are declared in ``registry.TRAITS``.
    traits: frozenset[str] = frozenset()
    #: Kinds of attachment the applicant may add in this state.
    uploads: tuple[str, ...] = ()

    def has(self, trait: str) -> bool:
        return trait in self.traits

    @property
    def final(self) -> bool:
        return "final" in self.traits


@dataclass(frozen=True)
class HookRef:
    """A guard or effect named in the file, with its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BodyField:
    name: str
    type: str
    required: bool = True
    max_length: int = 4000
    #: For dates: refuse a day after today (a transfer or a visit cannot be in the future).
    not_future: bool = False


@dataclass(frozen=True)
class Action:
    name: str
    label: Label
    from_states: tuple[str, ...]
    to: str
    roles: tuple[str, ...]
    body: tuple[BodyField, ...] = ()
    guards: tuple[HookRef, ...] = ()
    effects: tuple[HookRef, ...] = ()
    #: Shown to people as a button of this kind: "primary", "danger" or "secondary".
    style: str = "primary"
    #: Run only by a service or an effect (e.g. freezing a tranche when its grant is suspended), never
    #: offered at ``/actions/{action}``.
    internal: bool = False


@dataclass(frozen=True)
class Criterion:
    criterion: str
    label: Label
    weight: int


@dataclass(frozen=True)
class TranchePlan:
    """One line of the tranche plan: how a component's approved money is paid out.

    ``share`` is a percentage of the approved component; ``periods`` > 1 splits
    it into that many equal monthly tranches; ``condition`` names when a tranche
    may be requested (a condition other modules register, e.g. ``on_approval``,
    ``after_first_accepted_report``, ``after_accepted_report_for_period``).
    """

    component: str
    share: int
    condition: str
    periods: int = 1


@dataclass(frozen=True)
class Workflow:
    """One flow: the states and actions of one kind of record (``record``: application, tranche, report)."""

    name: str
    file: str
    title: Label
    initial: str
    states: dict[str, State]
    actions: dict[str, Action]
    rubric: tuple[Criterion, ...] = ()
    tranches: tuple[TranchePlan, ...] = ()
    record: str = "application"
    #: The history event that records the record's creation (``create`` for applications, ``submit`` for
    #: reports) and how people read it.
    created_action: str = "create"
    created_label: Label | None = None

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.from_states]

    def offers(self, action: str, state: str, role: str) -> bool:
        """May ``role`` take ``action`` from ``state`` (the file's roles and from-states; guards not asked)?"""
        found = self.actions.get(action)
        return found is not None and state in found.from_states and role in found.roles

    def states_with(self, trait: str) -> tuple[str, ...]:
        """The names of the states that carry ``trait``, in the file's order."""
        return tuple(s.name for s in self.states.values() if trait in s.traits)

    def has(self, state: str, trait: str) -> bool:
        found = self.states.get(state)
        return found is not None and trait in found.traits

    def grant_states(self) -> list[str]:
        return list(self.states_with("holds_grant"))

    def state_label(self, state: str) -> str:
        found = self.states.get(state)
        return str(found.label) if found else state

    def action_label(self, action: str) -> str:
        if action == self.created_action and self.created_label is not None:
            return str(self.created_label)
        found = self.actions.get(action)
        return str(found.label) if found else action

    def rubric_out(self) -> list[dict[str, Any]]:
        return [{"criterion": c.criterion, "label": str(c.label), "weight": c.weight} for c in self.rubric]
