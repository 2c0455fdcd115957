from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

COMPONENTS = ("capital", "wages", "product_development", "marketing")


class ComponentRule(msgspec.Struct, forbid_unknown_fields=True):
    max: int
    daily_wage_max: int | None = None


class TrainingCentreIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    kind: Literal["UPTP", "UPTD", "KOMUNITAS"]
    region: str
    vocations: list[str] = msgspec.field(default_factory=list)
    it_based: bool = False


class ProgrammeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    workflow: str
    fiscal_year: int
    budget_ceiling: int
    max_per_group: int
    min_members: int
    max_members: int
    regions: list[str]
    opens_on: dt.date
    closes_on: dt.date
    components: dict[str, ComponentRule]
    report_due_day: int = 10
    reminder_grace_days: int = 7
