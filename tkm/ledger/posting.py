"""What a posting is, and how its entries become links of the ``ledger`` hash chain (pure: no database).

``tkm.ledger.services.post(posting, actor)`` writes one posting (``post_many`` several) in the caller's
transaction, as every service that moves money does. ``Batch`` chains many postings in memory from the
chain head for the bulk loader (``tkm demo --scale``), which then writes the rows with COPY: both hash with
``entry_fields``, so ``tkm verify`` checks them alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.core import hashchain
from tkm.ledger.accounts import Account, Kind, Leg, is_balanced


@dataclass(frozen=True)
class Posting:
    """One balanced ledger transaction: its kind, its legs and what it is about."""

    kind: Kind
    legs: list[Leg]
    application_id: int | None = None
    programme_id: int | None = None
    component: str = ""
    reference: str = ""
    memo: str = ""
    #: The transaction a reversal undoes.
    reverses: int | None = None
    #: The month the money belongs to (YYYY-MM): a payment's transfer date, a report's period.
    period: str | None = None
    #: The day the money moved: a transfer's date, the last day of a report's period, a deposit's date.
    value_date: dt.date | None = None
    #: Extra details of the posting's audit event.
    audit_details: dict[str, Any] = field(default_factory=dict)


def header(posting: Posting, txn_id: int | None, actor: CurrentUser | None, at: dt.datetime) -> dict[str, Any]:
    """The transaction row as its entries' hashes see it."""
    return {
        "id": txn_id,
        "kind": str(posting.kind),
        "application": posting.application_id,
        "programme": posting.programme_id,
        "component": posting.component,
        "reference": posting.reference,
        "memo": posting.memo,
        "reverses": posting.reverses,
        "actor_id": actor.id if actor else None,
        "actor": actor.email if actor else "system",
        "actor_name": actor.name if actor else "system",
        "at": at,
        "period": posting.period,
        "value_date": posting.value_date,
    }


def entry_fields(txn: dict[str, Any], account_code: str, amount: int, application_id: int | None) -> dict[str, Any]:
    """What an entry's hash covers: the entry and every field of its transaction (one place for write and verify)."""
    return {
        "txn": {
            "id": txn["id"],
            "kind": txn["kind"],
            "application": txn["application"],
            "programme": txn["programme"],
            "component": txn["component"],
            "reference": txn["reference"],
            "memo": txn["memo"],
            "reverses": txn["reverses"],
            "actor_id": txn["actor_id"],
            "actor": txn["actor"],
            "actor_name": txn["actor_name"],
            "at": txn["at"],
            # Only when set, so entries posted before the columns existed keep their hashes.
            **({"period": txn["period"]} if txn.get("period") else {}),
            **({"value_date": _day(txn["value_date"])} if txn.get("value_date") else {}),
        },
        "account": account_code,
        "amount": amount,
        "application": application_id,
    }


def _day(value: Any) -> str:
    """A value date as hashed: ISO ``YYYY-MM-DD`` whether it comes as a date or (SQLite rows) as text."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def check_balanced(txn: dict[str, Any], legs: list[Leg]) -> None:
    if not is_balanced(legs):  # a programming error: every *_legs() builder balances
        raise RuntimeError(f"ledger transaction {txn['id']} ({txn['kind']}) does not balance: {legs}")


@dataclass
class Batch:
    """Postings chained in memory from the chain head ``(seq, prev)``, for a bulk write of the rows.

    ``accounts`` maps the account codes that exist to their ids; new ones are collected in ``new_accounts``
    (ids are given when the batch is written). ``entries`` rows are ``(seq, txn_id, account_code, amount,
    application_id, prev_hash, hash)``.
    """

    seq: int
    prev: str
    accounts: dict[str, int]
    new_accounts: list[Account] = field(default_factory=list)
    txns: list[dict[str, Any]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)

    def post(self, posting: Posting, txn_id: int, actor: CurrentUser | None, at: dt.datetime) -> dict[str, Any]:
        txn = header(posting, txn_id, actor, at)
        check_balanced(txn, posting.legs)
        self.txns.append(txn)
        for account, amount in posting.legs:
            if account.code not in self.accounts:
                self.accounts[account.code] = -1
                self.new_accounts.append(account)
            self.seq += 1
            digest = hashchain.digest(
                self.prev, {**entry_fields(txn, account.code, amount, posting.application_id), "seq": self.seq}
            )
            self.entries.append((self.seq, txn_id, account.code, amount, posting.application_id, self.prev, digest))
            self.prev = digest
        return txn
