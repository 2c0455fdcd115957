from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from tkm.core.schemas import Out

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
    #: {region code: rupiah}, each region inside ``regions`` (tkm.programmes.quotas).
    quotas: dict[str, int] = msgspec.field(default_factory=dict)
    #: MAK / kode rekening the grants are paid from (printed on SPMs), e.g. "026.05.WA.4284.EBA.001.052.A.526211".
    account_code: str = ""
    #: The DIPA / DPA (number and date), e.g. "DIPA-026.05.1.xxxxxx/2026 tanggal 2 Desember 2025".
    budget_reference: str = ""


class ProgrammeQuotasIn(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /api/v1/programmes/{code}: the fields sent change. ``quotas`` is replaced as a whole ({} removes
    them); ``account_code`` and ``budget_reference`` are what SPMs print."""

    quotas: dict[str, int] | msgspec.UnsetType = msgspec.UNSET
    account_code: str | msgspec.UnsetType = msgspec.UNSET
    budget_reference: str | msgspec.UnsetType = msgspec.UNSET


# --- responses ----------------------------------------------------------------------------------------------------


class TrainingCentreOut(Out):
    id: int
    code: str
    name: str
    kind: str
    region: str
    region_name: str
    vocations: list[str]
    it_based: bool


class TrainingCentrePageOut(Out):
    items: list[TrainingCentreOut]
    page: int
    per_page: int
    total: int


class ProgrammeOut(Out):
    id: int
    code: str
    name: str
    workflow: str
    fiscal_year: int
    budget_ceiling: int
    max_per_group: int
    min_members: int
    max_members: int
    regions: list[str]
    opens_on: str
    closes_on: str
    #: {component: {"max": rupiah, "daily_wage_max": rupiah (wages)}}
    components: dict[str, dict[str, int]]
    report_due_day: int
    reminder_grace_days: int
    is_open: bool
    #: {region code: rupiah}
    quotas: dict[str, int]
    #: MAK / kode rekening (SPMs print it)
    account_code: str
    #: DIPA / DPA reference (SPMs print it)
    budget_reference: str


class ProgrammePageOut(Out):
    items: list[ProgrammeOut]
    page: int
    per_page: int
    total: int
