"""The funds trail: a double-entry ledger (accounts, transactions, entries).

Every table here is append-only: database triggers refuse UPDATE and DELETE on
both engines (migration ``ledger: triggers``), and on PostgreSQL a deferred
constraint trigger refuses, at COMMIT, any transaction whose entries do not
sum to zero. Amounts are signed integer rupiah: debit > 0, credit < 0. See
``tkm.ledger.services`` for the chart of accounts.
"""

from piccolo.columns import JSON, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.applications.tables import Application
from tkm.programmes.tables import Programme


class LedgerAccount(Table, tablename="ledger_accounts"):
    """One account of the chart, created on first use; never changed afterwards."""

    #: e.g. ``prog:3:available``, ``app:12:committed:capital``, ``grp:7:expense:wages``.
    code = Varchar(length=120, unique=True)
    #: programme | application | group: what ``owner_id`` is the id of.
    owner_kind = Varchar(length=20)
    owner_id = Integer()
    #: appropriation, available, committed, disbursed, grant_cash, grant_received, grant_spent, returned,
    #: own_cash, revenue, reinvestment (see tkm.ledger.accounts).
    name = Varchar(length=30)
    #: The budget component (capital, wages, ...) or expense category; empty when the account has none.
    component = Varchar(length=40, default="")
    created_at = Timestamptz()


class LedgerTransaction(Table, tablename="ledger_transactions"):
    """One balanced posting: its entries sum to zero. Corrections are reversals pointing at the original."""

    #: funding | commit | payment | report | reversal
    kind = Varchar(length=30, index=True)
    #: The application the money belongs to (null only for programme funding).
    application = ForeignKey(Application, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    programme = ForeignKey(Programme, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    #: The component paid (payments) or empty when the posting spans several.
    component = Varchar(length=40, default="")
    #: Outside reference: transfer reference, report period, decree number, ...
    reference = Varchar(length=200, default="")
    #: Why (reversals); free text.
    memo = Text(default="")
    #: The transaction this one reverses (a unique index allows one reversal per transaction).
    reverses = Integer(null=True, default=None)
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=320, default="")
    actor_name = Varchar(length=200, default="")
    at = Timestamptz()
    #: The month the money belongs to (a payment's transfer date, a report's period), YYYY-MM; null: the month
    #: of ``at``. Hashed with the entries when set; feeds ``ledger_activity`` (tkm.ledger.activity).
    period = Varchar(length=7, null=True, default=None)
    #: The day the money moved (a transfer's date, the last day of a report's period, a deposit's date); null:
    #: the day of ``at`` (when it was recorded). Hashed with the entries when set; what trails show as ``at``.
    value_date = Date(null=True, default=None)


class LedgerEntry(Table, tablename="ledger_entries"):
    """One leg of a transaction; each entry is a link of the global ``ledger`` hash chain."""

    #: Position in the ``ledger`` hash chain (1, 2, 3, ... in posting order).
    seq = BigInt(unique=True)
    txn = ForeignKey(LedgerTransaction, null=False, on_delete=OnDelete.restrict, index=True)
    account = ForeignKey(LedgerAccount, null=False, on_delete=OnDelete.restrict, index=True)
    #: Signed rupiah: debit > 0, credit < 0, never 0.
    amount = BigInt()
    #: Copy of the transaction's application, so a funds trail is one index range (application, seq).
    application_id = Integer(null=True, default=None)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class FundReturn(Table, tablename="fund_returns"):
    """A group's deposit of unspent grant money back to the state treasury (setoran sisa dana ke kas negara).

    The money moves in the ledger (a ``return`` transaction, ``ledger_transaction``); this row keeps the
    treasury's receipt number (NTPN), the deposit date and the proof of deposit.
    """

    application = ForeignKey(Application, on_delete=OnDelete.restrict, index=True)
    amount = BigInt()
    deposited_on = Date()
    #: Nomor Transaksi Penerimaan Negara: the treasury's 16-character receipt number (unique).
    ntpn = Varchar(length=16, unique=True)
    #: The proof of deposit (an attachment of the application).
    attachment = Integer(null=True, default=None)
    notes = Text(default="")
    #: How the amount was taken from each component's grant money, ``{component: rupiah}``.
    by_component = JSON(default="{}")
    ledger_transaction = Integer()
    recorded_by = Integer()
    recorded_at = Timestamptz()
