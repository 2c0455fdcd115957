from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.applications.tables import Application
from tkm.auth.tables import User


class Report(Table, tablename="reports"):
    """One group's report for one month (``period`` YYYY-MM); one per application and period."""

    application = ForeignKey(Application, on_delete=OnDelete.restrict, index=True)
    period = Varchar(length=7)
    status = Varchar(length=20, index=True)  # submitted | revision_requested | accepted
    final = Boolean(default=False)
    revenue = BigInt(default=0)
    expenses_total = BigInt(default=0)
    reinvested = BigInt(default=0)
    workers = Integer(default=0)
    wages_paid = BigInt(default=0)
    notes = Text(default="")
    review_notes = Text(default="")
    version = Integer(default=1)
    submitted_by = ForeignKey(User, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz()
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    #: The funds-trail transaction posted when the report was accepted.
    ledger_transaction = Integer(null=True, default=None)


class ReportProduction(Table, tablename="report_production"):
    report = ForeignKey(Report, on_delete=OnDelete.cascade, index=True)
    product = Varchar(length=60, index=True)
    unit = Varchar(length=30)
    quantity = BigInt()


class ReportSale(Table, tablename="report_sales"):
    report = ForeignKey(Report, on_delete=OnDelete.cascade, index=True)
    product = Varchar(length=60, index=True)
    quantity = BigInt()
    revenue = BigInt()


class ReportExpense(Table, tablename="report_expenses"):
    report = ForeignKey(Report, on_delete=OnDelete.cascade, index=True)
    category = Varchar(length=20)
    amount = BigInt()
    #: Who paid: grant (the TKM grant's money) or sales (the group's own money).
    source = Varchar(length=10, default="sales")
    #: The RAB component whose grant money paid (grant only; empty for sales).
    component = Varchar(length=30, default="")
