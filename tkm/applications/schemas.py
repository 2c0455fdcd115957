from __future__ import annotations

from typing import Any

import msgspec

from tkm.core.schemas import Out


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


# --- responses ----------------------------------------------------------------------------------------------------


class ApplicationGroupOut(Out):
    id: int
    name: str
    region: str
    member_count: int


class BudgetLineOut(Out):
    component: str
    description: str
    quantity: int
    unit: str
    unit_cost: int
    total: int


class RubricCriterionOut(Out):
    criterion: str
    label: str
    weight: int


class ActionFieldOut(Out):
    name: str
    type: str
    required: bool


class ActionOut(Out):
    """A workflow action the caller may run now, with the body fields its form asks for."""

    name: str
    label: str
    style: str
    body: list[ActionFieldOut]


class HistoryEventOut(Out, rename={"from_state": "from", "to_state": "to"}):
    seq: int
    action: str
    from_state: str
    to_state: str
    actor: str
    actor_id: int | None
    actor_role: str
    at: str
    notes: str
    #: What the action was sent with (scores, reasons, ...), as the workflow file defines it.
    body: dict[str, Any]


class AttachmentOut(Out):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: str
    url: str


class ApplicationOut(Out):
    id: int
    programme: str
    programme_name: str
    workflow: str
    group_id: int
    group: ApplicationGroupOut
    region: str
    region_name: str
    status: str
    status_label: str
    version: int
    #: The business plan as sent (summary, products, market, workers).
    business_plan: dict[str, Any]
    budget: list[BudgetLineOut]
    #: {component: rupiah}
    budget_totals: dict[str, int]
    requested_total: int
    recommended_budget: dict[str, int] | None
    #: {criterion: 1..5}
    scores: dict[str, int] | None
    score: int | None
    approved_budget: dict[str, int] | None
    approved_total: int
    rubric: list[RubricCriterionOut]
    allowed_actions: list[str]
    actions: list[ActionOut]
    history: list[HistoryEventOut]
    attachments: list[AttachmentOut]
    created_at: str
    updated_at: str
    submitted_at: str | None
    approved_at: str | None


class ApplicationListGroupOut(Out):
    id: int
    name: str


class ApplicationListItemOut(Out):
    id: int
    programme: str
    group: ApplicationListGroupOut
    region: str
    region_name: str
    status: str
    status_label: str
    version: int
    requested_total: int
    approved_total: int
    score: int | None
    recommended_budget: dict[str, int] | None
    submitted_at: str | None
    updated_at: str


class ApplicationPageOut(Out):
    items: list[ApplicationListItemOut]
    page: int
    per_page: int
    total: int


class ApprovalsIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/v1/approvals: several applications decided at once (checked by the service, which names the
    field at fault)."""

    applications: Any = None
    #: approve | reject
    action: Any = None
    notes: Any = None
    reasons: Any = None


class ApprovalResultOut(Out):
    """One application's result: its status after the call, or the problem that refused it (and left it
    as it was)."""

    id: int
    status: str | None
    problem: dict[str, Any] | None
    #: Letters issued for it: collective_decree, decree_extract, cooperation_agreement (approved) or
    #: rejection_letter (rejected), by kind.
    documents: dict[str, int]
