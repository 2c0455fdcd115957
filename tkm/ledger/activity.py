"""Monthly activity per application: money disbursed, grant money spent, earned, reinvested and returned,
kept beside the ledger.

The dashboard and the programme summary add these figures over thousands of grants; summing the
entries themselves on every request costs a scan of the whole ledger. ``ledger_activity`` holds one
row per application, month and account name with the sum of that account's entries (and one with
month ``total`` for all months), updated in the same transaction as the entries (``add``), so it can
never be ahead of or behind the ledger. Money released back to the programme (release postings' credits to
``committed``) is kept the same way under the name ``released``.

The month is that of the business event: a payment's transfer date, a report's period; a reversal
counts in the month of what it reverses; anything else in the month it was posted (Jakarta time).
It is derived data: ``rebuild_statements`` recomputes it from the entries (the migration and the bulk
loader use it) and ``verify`` (run by ``tkm verify``) proves the table equals that recomputation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tkm.core import db
from tkm.programmes.services import JAKARTA

#: The accounts whose monthly sums are programme figures (revenue is credit-normal: its sums are negative):
#: paid out, grant money spent, sales revenue, sales money spent (reinvested), grant money returned.
ACTIVITY_ACCOUNTS = ("disbursed", "grant_spent", "revenue", "reinvestment", "returned")
#: The ``month`` of the rows that hold an application's all-time sums: figures per region or training centre
#: then add one row per application and account instead of one per month.
TOTAL = "total"
_NAMES = "(" + ", ".join(f"'{name}'" for name in ACTIVITY_ACCOUNTS) + ")"
#: Not an account: the ``committed`` entries of release postings (negative, like any credit), kept under this
#: name so the dashboard adds released money the way it adds the others.
RELEASED = "released"
#: The row name of an entry: its account's, except for what a release takes off committed.
_ROW_NAME = f"CASE WHEN m.kind = 'release' AND la.name = 'committed' THEN '{RELEASED}' ELSE la.name END"


def month_of(period: str | None, at: dt.datetime) -> str:
    return period or at.astimezone(JAKARTA).strftime("%Y-%m")


async def add(txn: dict[str, Any], legs: Sequence[tuple[Any, int]]) -> None:
    """Add a transaction's activity legs to their month (inside the posting's transaction)."""
    if txn.get("application") is None:
        return
    sums: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        if account.name in ACTIVITY_ACCOUNTS:
            sums[account.name] += amount
        elif account.name == "committed" and txn.get("kind") == "release":
            sums[RELEASED] += amount
    months = (month_of(txn.get("period"), txn["at"]), TOTAL)
    for name, amount in sorted(sums.items()):
        for month in months if amount else ():
            await db.execute(
                "INSERT INTO ledger_activity (application_id, month, name, amount) VALUES ({}, {}, {}, {}) "
                "ON CONFLICT (application_id, month, name) DO UPDATE SET amount = ledger_activity.amount + {}",
                int(txn["application"]),
                month,
                name,
                amount,
                amount,
            )


async def effective_period(transaction_id: int) -> str | None:
    """The month a transaction counts in, for its reversal; transactions posted before ``period`` existed
    take it from their report or tranche."""
    sql, args = _month_select("t.id = {}", db.is_sqlite())
    row = await db.fetch_one(f"SELECT month FROM ({sql}) m", *args, transaction_id)  # noqa: S608 - constant text
    return row["month"] if row else None


def _month_expression(sqlite: bool) -> str:
    if sqlite:
        paid, posted = "SUBSTR(tr.paid_at, 1, 7)", "STRFTIME('%Y-%m', t.at, '+7 hours')"
    else:
        paid, posted = "TO_CHAR(tr.paid_at, 'YYYY-MM')", "TO_CHAR(t.at AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM')"
    return f"COALESCE(t.period, o.period, rp.period, {paid}, {posted})"


def _month_select(where: str, sqlite: bool) -> tuple[str, list[Any]]:
    """Each transaction's month: its own period, the reversed original's, or (older rows) its report's/tranche's."""
    sql = (
        f"SELECT t.id AS txn, t.kind AS kind, {_month_expression(sqlite)} AS month FROM ledger_transactions t "  # noqa: S608 - constant
        "LEFT JOIN ledger_transactions o ON o.id = t.reverses "
        "LEFT JOIN reports rp ON rp.ledger_transaction = COALESCE(t.reverses, t.id) "
        "LEFT JOIN tranches tr ON tr.payment_transaction = COALESCE(t.reverses, t.id) "
        f"WHERE {where}"
    )
    return sql, []


def _recomputed(where: str, sqlite: bool) -> str:
    """Per application, month and account the sum of the entries, then the all-months totals from those sums
    (one pass over the entries)."""
    months, _args = _month_select("t.application IS NOT NULL", sqlite)
    return (
        f"WITH monthly AS (SELECT e.application_id AS application_id, m.month AS month, {_ROW_NAME} AS name, "  # noqa: S608 - constant
        "CAST(SUM(e.amount) AS BIGINT) AS amount "
        "FROM ledger_entries e JOIN ledger_accounts la ON la.id = e.account "
        f"JOIN ({months}) m ON m.txn = e.txn "
        f"WHERE (la.name IN {_NAMES} OR (la.name = 'committed' AND m.kind = 'release')) "
        f"AND e.application_id IS NOT NULL{where} "
        f"GROUP BY e.application_id, m.month, {_ROW_NAME}) "
        "SELECT application_id, month, name, amount FROM monthly WHERE amount <> 0 "
        f"UNION ALL SELECT application_id, '{TOTAL}', name, CAST(SUM(amount) AS BIGINT) FROM monthly "
        "GROUP BY application_id, name HAVING SUM(amount) <> 0"
    )


def rebuild_statements(sqlite: bool, first: int | None = None, last: int | None = None) -> list[str]:
    """SQL that recomputes the table from the entries, for every application or the id range ``first``-``last``
    (inlined: they are integers)."""
    where = delete_where = ""
    if first is not None and last is not None:
        lo, hi = int(first), int(last)
        where = f" AND e.application_id BETWEEN {lo} AND {hi}"
        delete_where = f" WHERE application_id BETWEEN {lo} AND {hi}"
    return [
        "DELETE FROM ledger_activity" + delete_where,  # noqa: S608 - integers only
        "INSERT INTO ledger_activity (application_id, month, name, amount) " + _recomputed(where, sqlite),
    ]


@dataclass(frozen=True)
class ActivityMismatch:
    application_id: int
    month: str
    name: str
    stored: int
    expected: int

    def __str__(self) -> str:
        return (
            f"monthly activity of application {self.application_id}, {self.month}, {self.name}: "
            f"{self.stored} stored, the entries add up to {self.expected}"
        )


async def verify() -> ActivityMismatch | None:
    """The first row where ``ledger_activity`` differs from the sums of the entries, or None."""
    expected = await db.fetch(_recomputed("", db.is_sqlite()))
    stored = await db.fetch("SELECT application_id, month, name, amount FROM ledger_activity WHERE amount <> 0")
    want = {(int(r["application_id"]), r["month"], r["name"]): int(r["amount"]) for r in expected}
    have = {(int(r["application_id"]), r["month"], r["name"]): int(r["amount"]) for r in stored}
    for key in sorted(set(want) | set(have)):
        if want.get(key, 0) != have.get(key, 0):
            return ActivityMismatch(*key, stored=have.get(key, 0), expected=want.get(key, 0))
    return None
