"""Approved money of a programme per application region, from the funds trail (for regional quotas).

Approved = committed + disbursed on the applications' accounts, so a reversal, a release or a move between
components nets out exactly as in the application's own totals (``tkm.ledger.accounts``).
"""

from __future__ import annotations

from tkm.core import db

# CAST: PostgreSQL's SUM(bigint) is numeric; the same BIGINT on both engines.
_APPROVED_BY_REGION_SQL = (
    "SELECT ap.region AS region, CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) AS approved "
    "FROM ledger_entries e "
    "JOIN ledger_accounts a ON a.id = e.account "
    "JOIN applications ap ON ap.id = e.application_id "
    "WHERE ap.programme = {} AND a.owner_kind = 'application' AND a.name IN ('committed', 'disbursed') "
    "GROUP BY ap.region"
)


async def approved_by_region(programme_id: int) -> dict[str, int]:
    """``{application region: approved rupiah}`` of the programme's applications (regions without money left out)."""
    rows = await db.fetch(_APPROVED_BY_REGION_SQL, programme_id)
    return {r["region"]: int(r["approved"]) for r in rows if int(r["approved"])}


def within(region: str, scope: str) -> bool:
    """``13.71.01`` lies within ``13.71`` and ``13``; ``13.7`` is not a parent of ``13.71``."""
    return region == scope or region.startswith(scope + ".")


def approved_within(by_region: dict[str, int], scope: str) -> int:
    """What ``approved_by_region`` gives summed over ``scope`` and every region under it."""
    return sum(amount for region, amount in by_region.items() if within(region, scope))
