from __future__ import annotations

import msgspec

from tkm.applications.schemas import BudgetLineIn
from tkm.core.schemas import Out


class AmendmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/v1/applications/{id}/amendments: the whole new budget and why."""

    budget: list[BudgetLineIn]
    reason: str = ""


class AmendmentActionIn(msgspec.Struct, forbid_unknown_fields=True):
    notes: str | None = None
    reasons: str | None = None


class AmendmentLineOut(Out):
    component: str
    description: str
    quantity: int
    unit: str
    unit_cost: int
    total: int


class AmendmentTrancheOut(Out):
    reference: str
    component: str
    seq: int
    amount: int
    status: str
    condition: str


class AmendmentDecreeOut(Out):
    id: int
    number: str
    #: the rendering's status (pending, ready, failed)
    status: str


class AmendmentEventOut(Out):
    action: str
    #: null for the proposal
    from_: str | None = msgspec.field(name="from")
    to: str
    actor: str
    actor_role: str
    at: str
    notes: str


class AmendmentOut(Out):
    id: int
    application_id: int
    #: proposed | recommended | approved | rejected (workflows/flows/amendment.toml)
    status: str
    status_label: str
    version: int
    reason: str
    #: The proposed (after approval: the amended) budget lines.
    budget: list[AmendmentLineOut]
    budget_before: list[AmendmentLineOut]
    totals_before: dict[str, int]
    totals_after: dict[str, int]
    total_before: int
    total_after: int
    #: The tranche plan before and after the re-plan (empty until approved).
    tranches_before: list[AmendmentTrancheOut]
    tranches_after: list[AmendmentTrancheOut]
    ledger_transaction: int | None
    decree: AmendmentDecreeOut | None
    created_at: str
    decided_at: str | None
    history: list[AmendmentEventOut]
