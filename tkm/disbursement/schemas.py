"""Response shapes of tranches, payment batches and bank statements (API.md: Tranches)."""

from __future__ import annotations

from tkm.core.schemas import Out


class TrancheOut(Out):
    id: int
    application_id: int
    component: str
    seq: int
    amount: int
    #: planned → requested → authorized → paid, or failed
    status: str
    due_condition: str
    reference: str
    version: int
    paid_at: str | None
    transfer_reference: str | None
    requested_by: int | None
    authorized_by: int | None
    failure_reason: str | None


class TrancheBankAccountOut(Out):
    bank: str
    number: str
    holder: str


class QueuedTrancheOut(TrancheOut):
    """A tranche in the finance queue, with whom it pays and where to."""

    group: str
    region: str
    programme: str
    bank_account: TrancheBankAccountOut


class TranchePageOut(Out):
    items: list[QueuedTrancheOut]
    page: int
    per_page: int
    total: int


class PaymentBatchOut(Out):
    items: list[QueuedTrancheOut]
    total: int


class StatementMatchOut(Out):
    line: int
    reference: str
    amount: int
    tranche_id: int
    status: str
    transfer_reference: str
    paid_at: str


class StatementMissOut(Out):
    line: int
    reference: str
    #: The amount as written when it is not a whole number of rupiah.
    amount: int | str
    reason: str


class StatementOut(Out):
    matched: list[StatementMatchOut]
    unmatched: list[StatementMissOut]
