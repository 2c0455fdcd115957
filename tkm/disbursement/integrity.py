"""``tkm verify``: every tranche against the funds trail (amount, status, payment reference).

The ledger is hash-chained with a key the database does not hold; a tranche row is not, so a tranche is
proved by the payment it names: a tranche in a ``paid`` state names an unreversed payment of its own
application and component, for exactly its amount, carrying its transfer reference; any other tranche names
none. And no payment of an application paid through tranches is left that no tranche names.
"""

from __future__ import annotations

from typing import Any

from tkm.core import db
from tkm.ledger.accounts import Kind

TRANCHES = (
    "SELECT tr.id, tr.application, tr.component, tr.amount, tr.status, tr.transfer_reference, "
    "tr.payment_transaction, t.id AS txn, t.kind, t.application AS txn_application, t.component AS txn_component, "
    "t.reference AS txn_reference, "
    "(SELECT r.id FROM ledger_transactions r WHERE r.reverses = t.id) AS reversed_by, "
    "(SELECT SUM(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account "
    "WHERE e.txn = t.id AND a.name = 'disbursed') AS paid "
    "FROM tranches tr LEFT JOIN ledger_transactions t ON t.id = tr.payment_transaction "
    "WHERE tr.id > {} ORDER BY tr.id LIMIT {}"
)

UNCLAIMED = (
    "SELECT t.id, t.application FROM ledger_transactions t WHERE t.kind = {} "
    "AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses = t.id) "
    "AND EXISTS (SELECT 1 FROM tranches x WHERE x.application = t.application) "
    "AND NOT EXISTS (SELECT 1 FROM tranches y WHERE y.payment_transaction = t.id) ORDER BY t.id LIMIT 1"
)


def _problem(r: dict[str, Any], paid_states: set[str]) -> str | None:
    txn = r["payment_transaction"]
    if r["status"] not in paid_states:
        if txn is not None and r["reversed_by"] is None:
            return f"is {r['status']}, but names ledger transaction {txn}, a payment that stands"
        return None
    if txn is None:
        return "is paid, but names no payment in the ledger"
    if r["txn"] is None:
        return f"is paid by ledger transaction {txn}, which does not exist"
    if r["kind"] != Kind.payment or r["reversed_by"] is not None:
        return f"is paid by ledger transaction {txn}, which is not a payment that stands"
    if int(r["txn_application"] or 0) != int(r["application"]) or r["txn_component"] != r["component"]:
        return f"is paid by ledger transaction {txn} of another application or component"
    if int(r["paid"] or 0) != int(r["amount"]):
        return f"has amount {r['amount']}, but ledger transaction {txn} paid {int(r['paid'] or 0)}"
    if r["txn_reference"] != r["transfer_reference"]:
        return f"has transfer reference {r['transfer_reference']!r}, ledger transaction {txn} {r['txn_reference']!r}"
    return None


async def verify(batch_size: int = 2000) -> str | None:
    from tkm.disbursement.services import flow

    paid_states = set(flow().states_with("paid"))
    after = 0
    while True:
        rows = await db.fetch(TRANCHES, after, batch_size)
        for r in rows:
            if problem := _problem(r, paid_states):
                return f"tranches record {r['id']} {problem}"
        if len(rows) < batch_size:
            break
        after = int(rows[-1]["id"])
    unclaimed = await db.fetch_one(UNCLAIMED, str(Kind.payment))
    if unclaimed:
        return (
            f"ledger_transactions record {unclaimed['id']} pays application {unclaimed['application']}, "
            "but no tranche names it"
        )
    return None
