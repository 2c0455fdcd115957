from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.applications.tables import Application
from tkm.auth.tables import User


class Amendment(Table, tablename="amendments"):
    """A group's request to move its grant's money between RAB components (perubahan RAB).

    It keeps the budget before and after (lines and totals per component), so the replaced budget stays
    traceable after approval, and the tranche plan before and after the re-plan.
    """

    application = ForeignKey(Application, on_delete=OnDelete.restrict, index=True)
    #: proposed | recommended | approved | rejected (workflows/flows/amendment.toml)
    status = Varchar(length=20, index=True)
    version = Integer(default=1)
    reason = Text(default="")
    #: Budget lines [{component, description, quantity, unit, unit_cost, total}] before and after.
    lines_before = JSON(default="[]")
    lines_after = JSON(default="[]")
    #: {component: rupiah}: the approved budget before and the amended one.
    totals_before = JSON(default="{}")
    totals_after = JSON(default="{}")
    #: Tranches [{reference, component, seq, amount, status}] before and after the re-plan (set on approval).
    tranches_before = JSON(default="[]")
    tranches_after = JSON(default="[]")
    #: The funds-trail transaction that moved the commitments (set on approval).
    ledger_transaction = Integer(null=True, default=None)
    proposed_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
