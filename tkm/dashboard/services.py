"""Monitoring figures for the caller's scope, from SQL aggregates (``tkm.dashboard.queries``).

What counts:

- **applications by status**: every application in scope, by its current state;
- **approved**: ``approved_total`` of applications that were approved (whatever their state now);
- **disbursed, spent, revenue, reinvested**: balances of the funds trail (the ledger), so reversals
  net out; posted when a report is accepted: spent is the *grant* money groups spent (never more than
  was disbursed to them), reinvested what they spent of their own sales money, revenue their sales;
- **released**: approved money that will not be paid and went back to the programme's available money
  (the unpaid commitments of terminated grants, what a completed grant left committed); ``approved``
  keeps what the decrees approved, so the money still approved is approved − released;
- **returned**: grant money groups deposited back to the state treasury; unspent = disbursed − spent −
  returned;
- **products**: units produced and sold in accepted reports, per product (the unit of production
  as reported; a product reported in two units shows one row per unit, sales on the first);
- **workers**: people employed *now* — for each application its latest accepted report's
  ``workers``, summed. A group that reported 10 workers in April and 12 in May counts 12, not 22.
  Per month (``by_month``) it is the sum of that month's accepted reports;
- **reinvestment rate**: reinvested / revenue (None when there is no revenue);
- **quotas**: the chosen programme's regional quotas with what each has used (``tkm.dashboard.quotas``).

Scope: staff see applications in their regions, an applicant only their own, auditors and admins
everything. ``region`` narrows further and must lie inside the caller's regions (403 otherwise).
Breakdowns ``by_region`` are one level below the region asked for (provinces when none, or one level
below the caller's only region).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from tkm import regions
from tkm.auth.roles import CurrentUser, Role
from tkm.core import db
from tkm.core.errors import FieldError, Forbidden, invalid
from tkm.core.i18n import _
from tkm.dashboard import queries
from tkm.dashboard.queries import Scope
from tkm.dashboard.quotas import quota_figures
from tkm.programmes.tables import Programme

MONEY = ("approved", "disbursed", "spent", "released", "returned")
ACTIVITY = ("disbursed", "spent", "revenue", "reinvested")
PLACE_FIGURES = ("applications", "groups", "approved", *ACTIVITY, "released", "returned", "workers")
MONTH_FIGURES = (*ACTIVITY, "produced", "sold", "workers")
MAX_PARAM = 60
#: What a programme code may look like (a NUL byte would reach PostgreSQL as an error, not a miss).
CODE = re.compile(r"[A-Za-z0-9._\-]+")


@dataclass(frozen=True)
class Filters:
    programme_id: int | None
    programme: str
    programme_name: str
    region: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "programme": self.programme or None,
            "programme_name": self.programme_name or None,
            "region": self.region or None,
            "region_name": regions.name(self.region) if self.region else None,
        }


def reinvestment_rate(reinvested: int, revenue: int) -> float | None:
    return round(reinvested / revenue, 4) if revenue else None


async def resolve_filters(user: CurrentUser, programme: str | None, region: str | None) -> Filters:
    """Check the query parameters: a known programme, a known region inside the caller's scope."""
    programme = (programme or "").strip()
    region = (region or "").strip()
    if len(programme) > MAX_PARAM or not CODE.fullmatch(programme or "-"):
        raise invalid("programme", _("Unknown programme %(code)s.", code=programme[:MAX_PARAM].replace("\x00", "")))
    if len(region) > MAX_PARAM or (region and not regions.exists(region)):
        raise invalid("region", _("Unknown region code %(code)s.", code=region[:MAX_PARAM]))
    if region and user.role != Role.applicant and not user.covers(region):
        raise Forbidden(
            _("You may see only your own regions (%(regions)s).", regions=", ".join(user.regions) or "-"),
            errors=[FieldError("region", _("Outside your regions."))],
        )
    row = None
    if programme:
        row = (
            await Programme.select(Programme.id, Programme.code, Programme.name)
            .where(Programme.code == programme)
            .first()
        )
        if row is None:
            raise invalid("programme", _("Unknown programme %(code)s.", code=programme))
    return Filters(
        programme_id=int(row["id"]) if row else None,
        programme=row["code"] if row else "",
        programme_name=row["name"] if row else "",
        region=region,
    )


def scope_for(user: CurrentUser, filters: Filters) -> Scope:
    if user.sees_everything:
        return Scope(programme_id=filters.programme_id, region=filters.region)
    if user.role == Role.applicant:
        return Scope(programme_id=filters.programme_id, region=filters.region, applicant_id=user.id)
    return Scope(programme_id=filters.programme_id, region=filters.region, regions=tuple(user.regions))


def breakdown_depth(user: CurrentUser, region: str) -> int:
    """Regions one level below ``region`` (or below the caller's only region, or provinces)."""
    base = region or (user.regions[0] if user.is_staff and len(user.regions) == 1 else "")
    return min(len(base.split(".")) + 1 if base else 1, 3)


async def _run(sql: queries.Sql) -> list[dict[str, Any]]:
    return await db.fetch(sql[0], *sql[1])


def _zero(names: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(names, 0)


def _merge(rows: list[dict[str, Any]], key: str, figures: tuple[str, ...], into: dict[Any, dict[str, int]]) -> None:
    """Add aggregate rows (already summed in SQL) into ``into[row[key]]``."""
    for row in rows:
        bucket = into.setdefault(row[key], _zero(figures))
        for name in figures:
            if name in row:
                bucket[name] += int(row[name] or 0)


def _with_rate(figures: dict[str, int]) -> dict[str, Any]:
    return {**figures, "reinvestment_rate": reinvestment_rate(figures["reinvested"], figures["revenue"])}


async def _run_all(scope: Scope, depth: int | None) -> dict[str, list[dict[str, Any]]]:
    """Every aggregate at once: they are independent reads, so the database works on them side by side
    (on PostgreSQL each takes a pooled connection; SQLite's WAL lets readers run together)."""
    named = queries.all_queries(scope, depth)
    results = await asyncio.gather(*(_run(sql) for sql in named.values()))
    return dict(zip(named, results, strict=True))


async def dashboard(user: CurrentUser, programme: str | None = None, region: str | None = None) -> dict[str, Any]:
    filters = await resolve_filters(user, programme, region)
    scope = scope_for(user, filters)
    depth = breakdown_depth(user, filters.region)
    results = await _run_all(scope, depth)

    statuses = results["status_counts"]
    places = results["applications_by_place"] + results["money_by_place"] + results["workers_by_place"]
    by_region: dict[str, dict[str, int]] = {}
    by_centre: dict[str | None, dict[str, int]] = {}
    _merge(places, "region", PLACE_FIGURES, by_region)
    _merge(places, "training_centre", PLACE_FIGURES, by_centre)
    centre_names = {r["training_centre"]: r["training_centre_name"] for r in places if r["training_centre"]}
    totals = _zero(PLACE_FIGURES)
    for figures in by_region.values():
        for name in PLACE_FIGURES:
            totals[name] += figures[name]

    months: dict[str, dict[str, int]] = {}
    _merge(results["money_by_month"], "month", MONTH_FIGURES, months)
    _merge(results["workers_by_month"], "month", MONTH_FIGURES, months)
    produced, sold = results["production"], results["sales"]
    _merge([{**r, "produced": r["quantity"]} for r in produced], "month", MONTH_FIGURES, months)
    _merge([{**r, "sold": r["quantity"]} for r in sold], "month", MONTH_FIGURES, months)

    products: dict[tuple[str, str], dict[str, int]] = {}
    produced_rows = [{**r, "key": (r["product"], r["unit"]), "produced": r["quantity"]} for r in produced]
    _merge(produced_rows, "key", ("produced", "sold"), products)
    units: dict[str, str] = {}
    for product, unit in sorted(products):
        units.setdefault(product, unit)
    for r in sold:
        key = (r["product"], units.get(r["product"], ""))
        products.setdefault(key, _zero(("produced", "sold")))["sold"] += int(r["quantity"])

    return {
        "filters": filters.as_dict(),
        "applications_by_status": {r["status"]: int(r["n"]) for r in statuses},
        "applications": totals["applications"],
        "groups_funded": totals["groups"],
        "money": {name: totals[name] for name in MONEY}
        | {"unspent": totals["disbursed"] - totals["spent"] - totals["returned"]},
        "revenue": totals["revenue"],
        "reinvested": totals["reinvested"],
        "reinvestment_rate": reinvestment_rate(totals["reinvested"], totals["revenue"]),
        "workers": totals["workers"],
        "products": [
            {"product": product, "unit": unit, **figures} for (product, unit), figures in sorted(products.items())
        ],
        "by_region": [
            {"region": code, "region_name": regions.name(code), **_with_rate(figures)}
            for code, figures in sorted(by_region.items())
        ],
        "by_training_centre": [
            {
                "training_centre": code,
                "name": centre_names.get(code, code) if code else None,
                **_with_rate(figures),
            }
            for code, figures in sorted(by_centre.items(), key=lambda item: (item[0] is None, item[0] or ""))
        ],
        "by_month": [{"month": month, **figures} for month, figures in sorted(months.items())],
        "quotas": await quota_figures(user, filters.programme_id, filters.region),
    }


async def programme_activity(programme_id: int, region: str) -> list[dict[str, Any]]:
    """The programme summary's activity source (``tkm.documents.summary``): disbursed, spent, revenue,
    reinvested and workers per application region and training centre code, from the same aggregates."""
    scope = Scope(programme_id=programme_id, region=region)
    rows = await _run(queries.money_by_place(scope, None)) + await _run(queries.workers_by_place(scope, None))
    return [
        {
            "region": r["region"],
            "training_centre": r["training_centre"],
            "training_centre_name": r["training_centre_name"],
            **{
                name: int(r.get(name) or 0)
                for name in ("disbursed", "spent", "revenue", "reinvested", "released", "workers")
            },
        }
        for r in rows
    ]
