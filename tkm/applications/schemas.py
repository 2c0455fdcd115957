from __future__ import annotations

from typing import Any

import msgspec


class PlanProduct(msgspec.Struct, forbid_unknown_fields=True):
    product: str
    unit: str
    units_per_day: int
    unit_cost: int
    unit_price: int


class BusinessPlan(msgspec.Struct, forbid_unknown_fields=True):
    summary: str
    products: list[PlanProduct]
    market: str
    workers: int


class BudgetLineIn(msgspec.Struct, forbid_unknown_fields=True):
    component: str
    description: str
    quantity: Any  # checked by the service so that a bad value is a 422 naming budget[i].quantity
    unit: str
    unit_cost: Any


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    programme: str
    group_id: int
    business_plan: BusinessPlan
    budget: list[BudgetLineIn]


class ApplicationPatch(msgspec.Struct, forbid_unknown_fields=True):
    business_plan: BusinessPlan | None = None
    budget: list[BudgetLineIn] | None = None
