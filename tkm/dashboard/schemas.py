"""Response shape of GET /api/v1/dashboard (what each figure means: tkm.dashboard.services)."""

from __future__ import annotations

from tkm.core.schemas import Out


class FiltersOut(Out):
    programme: str | None
    programme_name: str | None
    region: str | None
    region_name: str | None


class MoneyOut(Out):
    approved: int
    disbursed: int
    spent: int
    unspent: int
    #: approved money that went back to the programme (terminated or completed grants)
    released: int
    #: grant money groups deposited back to the state treasury
    returned: int


class ProductOut(Out):
    product: str
    unit: str
    produced: int
    sold: int


class PlaceFigures(Out):
    applications: int
    groups: int
    approved: int
    disbursed: int
    spent: int
    revenue: int
    reinvested: int
    released: int
    returned: int
    workers: int
    reinvestment_rate: float | None


class RegionFiguresOut(PlaceFigures):
    region: str
    region_name: str


class TrainingCentreFiguresOut(PlaceFigures):
    #: null: groups without a training centre
    training_centre: str | None
    name: str | None


class MonthFiguresOut(Out):
    month: str
    disbursed: int
    spent: int
    revenue: int
    reinvested: int
    produced: int
    sold: int
    workers: int


class QuotaOut(Out):
    region: str
    region_name: str
    quota: int
    #: approved in the region (committed + disbursed in the funds trail)
    used: int
    left: int


class DashboardOut(Out):
    filters: FiltersOut
    #: {status: number of applications}
    applications_by_status: dict[str, int]
    applications: int
    groups_funded: int
    money: MoneyOut
    revenue: int
    reinvested: int
    reinvestment_rate: float | None
    workers: int
    products: list[ProductOut]
    by_region: list[RegionFiguresOut]
    by_training_centre: list[TrainingCentreFiguresOut]
    by_month: list[MonthFiguresOut]
    #: the chosen programme's regional quotas (empty without a programme or quotas)
    quotas: list[QuotaOut]
