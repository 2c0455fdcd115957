from piccolo.columns import BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.applications.tables import Application
from tkm.auth.tables import User


class Tranche(Table, tablename="tranches"):
    """One payment of part of an approved component (termin)."""

    application = ForeignKey(Application, on_delete=OnDelete.restrict, index=True)
    component = Varchar(length=30)
    seq = Integer()  # 1, 2, ... within the component
    amount = BigInt()
    #: A tranche condition registered by a domain (e.g. after_first_accepted_report).
    condition = Varchar(length=60)
    #: planned | requested | authorized | paid | failed | frozen
    status = Varchar(length=20, index=True)
    #: The payment reference the bank sees (unique): TKM-<application>-<component code><seq>.
    reference = Varchar(length=40, unique=True)
    version = Integer(default=1)
    requested_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    requested_at = Timestamptz(null=True, default=None)
    authorized_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    authorized_at = Timestamptz(null=True, default=None)
    paid_at = Date(null=True, default=None)
    transfer_reference = Varchar(length=100, default="")
    #: The funds-trail transaction of the payment (reversed when the bank rejects it).
    payment_transaction = Integer(null=True, default=None)
    failure_reason = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
