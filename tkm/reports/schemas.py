from __future__ import annotations

from typing import Any

import msgspec

from tkm.core.schemas import Out


class ProductionLine(msgspec.Struct, forbid_unknown_fields=True):
    product: str
    unit: str
    quantity: Any  # checked by the service: a bad value is a 422 naming production[i].quantity


class SaleLine(msgspec.Struct, forbid_unknown_fields=True):
    product: str
    quantity: Any
    revenue: Any


class ExpenseLine(msgspec.Struct, forbid_unknown_fields=True):
    category: str
    amount: Any
    #: Who paid: ``grant`` (the TKM grant, then ``component`` names the RAB component) or ``sales``.
    source: Any = None
    component: Any = None


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    production: list[ProductionLine] = msgspec.field(default_factory=list)
    sales: list[SaleLine] = msgspec.field(default_factory=list)
    expenses: list[ExpenseLine] = msgspec.field(default_factory=list)
    #: Derived (the period's sales-funded spending); a client that sends it must send that figure.
    reinvested: Any = None
    workers: Any = 0
    wages_paid: Any = 0
    notes: str = ""
    final: bool = False


# --- responses ----------------------------------------------------------------------------------------------------


class ProductionOut(Out):
    product: str
    unit: str
    quantity: int


class SaleOut(Out):
    product: str
    quantity: int
    revenue: int


class ExpenseOut(Out):
    category: str
    amount: int
    #: grant | sales
    source: str
    #: The RAB component of grant-funded spending; null for sales-funded spending.
    component: str | None


class ReportEventOut(Out):
    seq: int
    action: str
    actor: str
    at: str
    notes: str


class ReportOut(Out):
    id: int
    application_id: int
    period: str
    status: str
    final: bool
    version: int
    production: list[ProductionOut]
    sales: list[SaleOut]
    expenses: list[ExpenseOut]
    revenue: int
    expenses_total: int
    reinvested: int
    #: reinvested / revenue; null without revenue
    reinvestment_rate: float | None
    workers: int
    wages_paid: int
    notes: str
    review_notes: str
    submitted_at: str
    reviewed_at: str | None
    history: list[ReportEventOut]


class ReportListItemOut(ReportOut):
    #: The group's name.
    group: str


class ReportPageOut(Out):
    items: list[ReportListItemOut]
    page: int
    per_page: int
    total: int
