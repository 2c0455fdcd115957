"""``tkm verify``: every approved budget against its commitment in the funds trail.

An application's ``approved_budget`` (and ``approved_total``) is a plain row the database could change
unseen; the commitment is in the keyed ledger chain. They must agree per component: an application with an
approved budget has exactly one commitment that stands, moved by its approved budget amendments, of the same
amounts, and no commitment stands for an application without one.
"""

from __future__ import annotations

import json
from typing import Any

from tkm.core import db

COMMITTED = (
    "SELECT t.application, la.component, SUM(e.amount) AS amount FROM ledger_transactions t "
    "JOIN ledger_entries e ON e.txn = t.id JOIN ledger_accounts la ON la.id = e.account "
    "WHERE t.kind IN ('commit', 'amendment') AND la.name = 'committed' "
    "AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses = t.id) "
    "GROUP BY t.application, la.component"
)


def _budget(value: Any) -> dict[str, int]:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return {str(k): int(v) for k, v in (value or {}).items() if v}


async def verify(batch_size: int = 2000) -> str | None:
    committed: dict[int, dict[str, int]] = {}
    for r in await db.fetch(COMMITTED):
        if int(r["amount"]):  # a component an amendment emptied is not in the approved budget either
            committed.setdefault(int(r["application"]), {})[r["component"]] = int(r["amount"])
    after = 0
    while True:
        rows = await db.fetch(
            "SELECT id, approved_budget, approved_total FROM applications WHERE id > {} ORDER BY id LIMIT {}",
            after,
            batch_size,
        )
        for r in rows:
            approved, commitment = _budget(r["approved_budget"]), committed.pop(int(r["id"]), {})
            if approved != commitment:
                return (
                    f"applications record {r['id']} has the approved budget {approved}, "
                    f"but the funds trail commits {commitment}"
                )
            if approved and int(r["approved_total"] or 0) != sum(approved.values()):
                return (
                    f"applications record {r['id']} has approved_total {r['approved_total']}, "
                    f"but its approved budget adds up to {sum(approved.values())}"
                )
        if len(rows) < batch_size:
            break
        after = int(rows[-1]["id"])
    if committed:
        application = min(committed)
        return f"ledger_transactions: a commitment stands for application {application}, which does not exist"
    return None
