"""Programme summary figures: approved money from the applications table now; activity from a swappable source.

Approved totals and counts are summed in SQL from ``applications``. Money
disbursed and spent, revenue, reinvestment and workers belong to the ledger
and reports modules: they come from ``activity_source``, which answers rows
keyed like the approved ones. Until those modules call
``set_activity_source(...)`` it answers nothing, and the figures are zero.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tkm import regions
from tkm.core import db

#: ``released``: approved money that will not be paid (terminated or completed grants) and went back to the
#: programme; the approved figure stays what the decrees approved.
ACTIVITY_FIGURES = ("disbursed", "spent", "revenue", "reinvested", "released", "workers")
FIGURES = ("groups", "approved", *ACTIVITY_FIGURES)
NO_CENTRE = "Tanpa BLK"

#: ``async (programme_id, region) -> [{"region", "training_centre", "disbursed", ...}]``, one row per
#: application region and training centre code (None for groups without one), like ``approved_rows``.
ActivitySource = Callable[[int, str], Awaitable[list[dict[str, Any]]]]


async def no_activity_yet(programme_id: int, region: str) -> list[dict[str, Any]]:
    return []


activity_source: ActivitySource = no_activity_yet


def set_activity_source(source: ActivitySource) -> None:
    """The ledger/reports modules plug their aggregation in here."""
    global activity_source
    activity_source = source


def region_filter(column: str, region: str) -> tuple[str, list[Any]]:
    if not region:
        return "", []
    return f" AND ({column} = {{}} OR {column} LIKE {{}})", [region, region + ".%"]


async def approved_rows(programme_id: int, region: str) -> list[dict[str, Any]]:
    """Approved money and groups per application region and training centre (one SQL aggregate)."""
    where, args = region_filter("a.region", region)
    return await db.fetch(
        "SELECT a.region AS region, tc.code AS training_centre, tc.name AS training_centre_name, "
        "COUNT(*) AS groups, COALESCE(SUM(a.approved_total), 0) AS approved "
        "FROM applications a JOIN groups g ON g.id = a.group_id "
        "LEFT JOIN training_centres tc ON tc.id = g.training_centre "
        "WHERE a.programme = {} AND a.approved_at IS NOT NULL" + where + " "
        "GROUP BY a.region, tc.code, tc.name ORDER BY a.region, tc.code",
        programme_id,
        *args,
    )


def _zero() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


def _add(into: dict[str, int], row: dict[str, Any]) -> None:
    for figure in FIGURES:
        into[figure] += int(row.get(figure) or 0)


def rollup_region(region: str, scope: str) -> str:
    """The region one level below ``scope`` that contains ``region`` (provinces for the whole country)."""
    depth = len(scope.split(".")) + 1 if scope else 1
    return ".".join(region.split(".")[:depth])


async def programme_figures(programme_id: int, region: str) -> dict[str, Any]:
    """Rows per region (one level below ``region``) and per training centre, and the totals."""
    approved = await approved_rows(programme_id, region)
    activity = await activity_source(programme_id, region)
    names = {r["training_centre"]: r["training_centre_name"] for r in approved if r["training_centre"]}
    keyed: dict[tuple[str, str | None], dict[str, int]] = {}
    for row in [*approved, *activity]:
        key = (row["region"], row.get("training_centre"))
        _add(keyed.setdefault(key, _zero()), row)
        if row.get("training_centre_name"):
            names[row["training_centre"]] = row["training_centre_name"]
    by_region: dict[str, dict[str, int]] = {}
    by_centre: dict[str | None, dict[str, int]] = {}
    totals = _zero()
    for (app_region, centre), figures in keyed.items():
        _add(by_region.setdefault(rollup_region(app_region, region), _zero()), figures)
        _add(by_centre.setdefault(centre, _zero()), figures)
        _add(totals, figures)
    return {
        "regions": [
            {"code": code, "name": regions.name(code), **figures} for code, figures in sorted(by_region.items())
        ],
        "training_centres": [
            {"code": code or "", "name": names.get(code, code) if code else NO_CENTRE, **figures}
            for code, figures in sorted(by_centre.items(), key=lambda item: (item[0] is None, item[0] or ""))
        ],
        "totals": totals,
    }
