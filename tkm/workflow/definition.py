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
    terminal: bool = False
    #: Applications in this state hold a grant (one NIK may be in only one such group).
    holds_grant: bool = False
    #: The applicant may still change the business plan and budget (and the group's members).
    editable: bool = False
    #: Kinds of attachment the applicant may add in this state.
    uploads: tuple[str, ...] = ()


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
    name: str
    file: str
    title: Label
    initial: str
    states: dict[str, State]
    actions: dict[str, Action]
    rubric: tuple[Criterion, ...]
    tranches: tuple[TranchePlan, ...]

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.from_states]

    def grant_states(self) -> list[str]:
        return [s.name for s in self.states.values() if s.holds_grant]

    def rubric_out(self) -> list[dict[str, Any]]:
        return [{"criterion": c.criterion, "label": str(c.label), "weight": c.weight} for c in self.rubric]
