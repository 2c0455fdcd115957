"""The dashboard's SQL, in one place: each function returns ``(sql, args)`` for one aggregate.

``tkm.dashboard.services`` runs these through ``db.fetch``; a benchmark can run exactly the same
statements as raw SQL. Placeholders are ``{}`` (``tkm.core.db``); nothing the caller typed is ever
pasted into the text, only into ``args``.

Every aggregate reads applications through :class:`Scope` (alias ``a``), so the caller's regions,
the programme and the region filter limit all figures the same way. Sources:

- ``applications``: status counts, approved money (``approved_total`` once ``approved_at`` is set);
- the ledger's monthly activity (``ledger_activity``, kept in step with the entries by
  ``tkm.ledger.activity``): money disbursed (``disbursed`` accounts), spent (``expense``), revenue
  (``revenue``, credit-normal so its sign is flipped), reinvested (``reinvestment``) and released
  (``released``: release postings' credits to committed, sign flipped). Reversals
  count too, so a failed payment nets out. Summing those rows instead of every entry keeps the
  dashboard fast on a national ledger (docs/benchmarks.md);
- accepted reports: units produced and sold, workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tkm.ledger.activity import RELEASED, TOTAL
from tkm.workflow import loader

Sql = tuple[str, list[Any]]

#: Characters of a region code at each depth: province ``13``, regency ``13.71``, district ``13.71.01``.
REGION_LENGTH = {1: 2, 2: 5, 3: 8}


@dataclass(frozen=True)
class Scope:
    """Which applications count: ``regions`` None means every region; ``applicant_id`` limits to one applicant."""

    programme_id: int | None = None
    region: str = ""
    regions: tuple[str, ...] | None = None
    applicant_id: int | None = None

    @property
    def unlimited(self) -> bool:
        """Every application counts (an auditor's national view): per-month figures need no join to applications."""
        return self.programme_id is None and self.applicant_id is None and self.regions is None and not self.region

    def join(self, column: str) -> str:
        """The join to applications that the scope needs, on ``column`` (nothing when it limits nothing)."""
        return "" if self.unlimited else f"JOIN applications a ON a.id = {column} "

    def where(self) -> Sql:
        parts: list[str] = []
        args: list[Any] = []
        if self.programme_id is not None:
            parts.append("a.programme = {}")
            args.append(self.programme_id)
        if self.applicant_id is not None:
            parts.append("a.applicant = {}")
            args.append(self.applicant_id)
        if self.regions is not None:
            if not self.regions:
                parts.append("1 = 0")
            else:
                parts.append("(" + " OR ".join("a.region = {} OR a.region LIKE {}" for _ in self.regions) + ")")
                for scope in self.regions:
                    args += [scope, scope + ".%"]
        if self.region:
            parts.append("(a.region = {} OR a.region LIKE {})")
            args += [self.region, self.region + ".%"]
        return (" AND ".join(parts) or "1 = 1"), args


def _sum(expr: str) -> str:
    """SUM as BIGINT on both engines (PostgreSQL's SUM(bigint) is numeric)."""
    return f"CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"


def _activity_sum(account: str, sign: str = "") -> str:
    return _sum(f"CASE WHEN x.name = '{account}' THEN {sign}x.amount ELSE 0 END")


def _activity_sums() -> str:
    """The four money figures from ``ledger_activity`` (revenue is credit-normal: its sign is flipped); spent is
    grant money spent, reinvested the group's own (sales) money spent."""
    return (
        f"{_activity_sum('disbursed')} AS disbursed, {_activity_sum('grant_spent')} AS spent, "
        f"{_activity_sum('revenue', '-')} AS revenue, {_activity_sum('reinvestment')} AS reinvested, "
        f"{_activity_sum(RELEASED, '-')} AS released, {_activity_sum('returned')} AS returned"
    )


def region_key(depth: int | None) -> str:
    """The application's region cut to ``depth`` (None: as stored). Codes have fixed widths per level."""
    if depth is None:
        return "a.region"
    return f"SUBSTR(a.region, 1, {REGION_LENGTH[min(max(depth, 1), 3)]})"


_CENTRE_JOIN = "JOIN groups g ON g.id = a.group_id LEFT JOIN training_centres tc ON tc.id = g.training_centre"
_BY_PLACE = "GROUP BY {key}, tc.code, tc.name ORDER BY 1, 2"


def status_counts(scope: Scope) -> Sql:
    where, args = scope.where()
    return f"SELECT a.status AS status, COUNT(*) AS n FROM applications a WHERE {where} GROUP BY a.status", args  # noqa: S608 - fragments are constants; values go in args


def applications_by_place(scope: Scope, depth: int | None) -> Sql:
    """Applications, funded groups and approved money per region (cut to ``depth``) and training centre."""
    where, args = scope.where()
    key = region_key(depth)
    sql = (
        f"SELECT {key} AS region, tc.code AS training_centre, tc.name AS training_centre_name, "  # noqa: S608 - fragments are constants; values go in args
        "COUNT(*) AS applications, "
        "COUNT(a.approved_at) AS groups, "
        f"{_sum('CASE WHEN a.approved_at IS NOT NULL THEN a.approved_total ELSE 0 END')} AS approved "
        f"FROM applications a {_CENTRE_JOIN} WHERE {where} " + _BY_PLACE.format(key=key)
    )
    return sql, args


def money_by_place(scope: Scope, depth: int | None) -> Sql:
    """Disbursed, spent, revenue and reinvested per region and training centre (monthly ledger activity)."""
    where, args = scope.where()
    key = region_key(depth)
    sql = (
        f"SELECT {key} AS region, tc.code AS training_centre, tc.name AS training_centre_name, "  # noqa: S608 - fragments are constants; values go in args
        f"{_activity_sums()} "
        f"FROM ledger_activity x JOIN applications a ON a.id = x.application_id {_CENTRE_JOIN} "
        f"WHERE x.month = '{TOTAL}' AND {where} " + _BY_PLACE.format(key=key)
    )
    return sql, args


def _accepted() -> str:
    """The report states that count (trait ``accepted`` of the report flow), as an SQL list."""
    return loader.sql_list(loader.states_with("report", "accepted"))


def _latest_accepted() -> str:
    """Each application's latest accepted period: one grouped pass over the reports (a join, not a subquery per
    row)."""
    return (
        f"JOIN (SELECT application, MAX(period) AS period FROM reports WHERE status IN {_accepted()} "  # noqa: S608
        "GROUP BY application) latest ON latest.application = r.application AND latest.period = r.period"
    )


def workers_by_place(scope: Scope, depth: int | None) -> Sql:
    """Workers employed now: each application's latest accepted report, summed per region and centre."""
    where, args = scope.where()
    key = region_key(depth)
    sql = (
        f"SELECT {key} AS region, tc.code AS training_centre, tc.name AS training_centre_name, "  # noqa: S608 - fragments are constants; values go in args
        f"{_sum('r.workers')} AS workers "
        f"FROM reports r {_latest_accepted()} JOIN applications a ON a.id = r.application {_CENTRE_JOIN} "
        f"WHERE r.status IN {_accepted()} AND {where} " + _BY_PLACE.format(key=key)
    )
    return sql, args


def money_by_month(scope: Scope) -> Sql:
    """Ledger money per month of the business event it records (see tkm.ledger.activity for the month)."""
    where, args = scope.where()
    sql = (
        f"SELECT x.month AS month, {_activity_sums()} "  # noqa: S608 - fragments are constants; values go in args
        f"FROM ledger_activity x {scope.join('x.application_id')}"
        f"WHERE x.month <> '{TOTAL}' AND {where} GROUP BY x.month ORDER BY x.month"
    )
    return sql, args


def workers_by_month(scope: Scope) -> Sql:
    """Workers reported in accepted reports, per period."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, {_sum('r.workers')} AS workers "  # noqa: S608 - fragments are constants; values go in args
        f"FROM reports r {scope.join('r.application')}"
        f"WHERE r.status IN {_accepted()} AND {where} GROUP BY r.period ORDER BY r.period"
    )
    return sql, args


def production(scope: Scope) -> Sql:
    """Units produced per period, product and unit (accepted reports only)."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, p.product AS product, p.unit AS unit, {_sum('p.quantity')} AS quantity "  # noqa: S608 - fragments are constants; values go in args
        "FROM report_production p JOIN reports r ON r.id = p.report "
        f"{scope.join('r.application')}"
        f"WHERE r.status IN {_accepted()} AND {where} GROUP BY r.period, p.product, p.unit ORDER BY 1, 2, 3"
    )
    return sql, args


def sales(scope: Scope) -> Sql:
    """Units sold per period and product (accepted reports only)."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, s.product AS product, {_sum('s.quantity')} AS quantity "  # noqa: S608 - fragments are constants; values go in args
        "FROM report_sales s JOIN reports r ON r.id = s.report "
        f"{scope.join('r.application')}"
        f"WHERE r.status IN {_accepted()} AND {where} GROUP BY r.period, s.product ORDER BY 1, 2"
    )
    return sql, args


def all_queries(scope: Scope, depth: int | None) -> dict[str, Sql]:
    """Every aggregate the dashboard runs, by name (what a benchmark replays)."""
    return {
        "status_counts": status_counts(scope),
        "applications_by_place": applications_by_place(scope, depth),
        "money_by_place": money_by_place(scope, depth),
        "workers_by_place": workers_by_place(scope, depth),
        "money_by_month": money_by_month(scope),
        "workers_by_month": workers_by_month(scope),
        "production": production(scope),
        "sales": sales(scope),
    }
