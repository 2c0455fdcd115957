from __future__ import annotations

from typing import Any

import msgspec


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


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    production: list[ProductionLine] = msgspec.field(default_factory=list)
    sales: list[SaleLine] = msgspec.field(default_factory=list)
    expenses: list[ExpenseLine] = msgspec.field(default_factory=list)
    reinvested: Any = 0
    workers: Any = 0
    wages_paid: Any = 0
    notes: str = ""
    final: bool = False
