"""The dashboard's SQL, in one place: each function returns ``(sql, args)`` for one aggregate.

``tkm.dashboard.services`` runs these through ``db.fetch``; a benchmark can run exactly the same
statements as raw SQL. Placeholders are ``{}`` (``tkm.core.db``); nothing the caller typed is ever
pasted into the text, only into ``args``.

Every aggregate reads applications through :class:`Scope` (alias ``a``), so the caller's regions,
the programme and the region filter limit all figures the same way. Sources:

- ``applications``: status counts, approved money (``approved_total`` once ``approved_at`` is set);
- the ledger (``ledger_entries`` × ``ledger_accounts``): money disbursed (``disbursed`` accounts),
  spent (``expense``), revenue (``revenue``, credit-normal so its sign is flipped) and reinvested
  (``reinvestment``). Reversals are entries too, so a failed payment nets out;
- accepted reports: units produced and sold, workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Sql = tuple[str, list[Any]]

#: Characters of a region code at each depth: province ``13``, regency ``13.71``, district ``13.71.01``.
REGION_LENGTH = {1: 2, 2: 5, 3: 8}
#: The ledger accounts whose balances are dashboard figures.
MONEY_ACCOUNTS = "('disbursed', 'expense', 'revenue', 'reinvestment')"


@dataclass(frozen=True)
class Scope:
    """Which applications count: ``regions`` None means every region; ``applicant_id`` limits to one applicant."""

    programme_id: int | None = None
    region: str = ""
    regions: tuple[str, ...] | None = None
    applicant_id: int | None = None

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


def _account_sum(account: str, sign: str = "") -> str:
    return _sum(f"CASE WHEN la.name = '{account}' THEN {sign}e.amount ELSE 0 END")


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
    """Disbursed, spent, revenue and reinvested from the ledger per region and training centre."""
    where, args = scope.where()
    key = region_key(depth)
    sql = (
        f"SELECT {key} AS region, tc.code AS training_centre, tc.name AS training_centre_name, "  # noqa: S608 - fragments are constants; values go in args
        f"{_account_sum('disbursed')} AS disbursed, "
        f"{_account_sum('expense')} AS spent, "
        f"{_account_sum('revenue', '-')} AS revenue, "
        f"{_account_sum('reinvestment')} AS reinvested "
        "FROM ledger_accounts la "
        "JOIN ledger_entries e ON e.account = la.id "
        f"JOIN applications a ON a.id = e.application_id {_CENTRE_JOIN} "
        f"WHERE la.name IN {MONEY_ACCOUNTS} AND {where} " + _BY_PLACE.format(key=key)
    )
    return sql, args


_LATEST_ACCEPTED = (
    "r.status = 'accepted' AND r.period = (SELECT MAX(r2.period) FROM reports r2 "
    "WHERE r2.application = r.application AND r2.status = 'accepted')"
)


def workers_by_place(scope: Scope, depth: int | None) -> Sql:
    """Workers employed now: each application's latest accepted report, summed per region and centre."""
    where, args = scope.where()
    key = region_key(depth)
    sql = (
        f"SELECT {key} AS region, tc.code AS training_centre, tc.name AS training_centre_name, "  # noqa: S608 - fragments are constants; values go in args
        f"{_sum('r.workers')} AS workers "
        f"FROM reports r JOIN applications a ON a.id = r.application {_CENTRE_JOIN} "
        f"WHERE {_LATEST_ACCEPTED} AND {where} " + _BY_PLACE.format(key=key)
    )
    return sql, args


def _month_of_date(column: str, sqlite: bool) -> str:
    return f"SUBSTR({column}, 1, 7)" if sqlite else f"TO_CHAR({column}, 'YYYY-MM')"


def _month_of_moment(column: str, sqlite: bool) -> str:
    """The month of a timestamp in Jakarta time (UTC+7 all year)."""
    if sqlite:
        return f"STRFTIME('%Y-%m', {column}, '+7 hours')"
    return f"TO_CHAR({column} AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM')"


def money_by_month(scope: Scope, sqlite: bool) -> Sql:
    """Ledger money per month of the business event it records.

    A report's postings (and their reversals) count in the report's period, a payment (and its
    reversal when the bank refused it) in the month of the tranche's transfer date; anything else in
    the month it was posted (Jakarta time).
    """
    where, args = scope.where()
    month = f"COALESCE(rp.period, {_month_of_date('tr.paid_at', sqlite)}, {_month_of_moment('t.at', sqlite)})"
    sql = (
        f"SELECT {month} AS month, "  # noqa: S608 - fragments are constants; values go in args
        f"{_account_sum('disbursed')} AS disbursed, "
        f"{_account_sum('expense')} AS spent, "
        f"{_account_sum('revenue', '-')} AS revenue, "
        f"{_account_sum('reinvestment')} AS reinvested "
        "FROM ledger_accounts la "
        "JOIN ledger_entries e ON e.account = la.id "
        "JOIN ledger_transactions t ON t.id = e.txn "
        "JOIN applications a ON a.id = e.application_id "
        "LEFT JOIN reports rp ON rp.ledger_transaction = COALESCE(t.reverses, t.id) "
        "LEFT JOIN tranches tr ON tr.payment_transaction = COALESCE(t.reverses, t.id) "
        f"WHERE la.name IN {MONEY_ACCOUNTS} AND {where} GROUP BY 1 ORDER BY 1"
    )
    return sql, args


def workers_by_month(scope: Scope) -> Sql:
    """Workers reported in accepted reports, per period."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, {_sum('r.workers')} AS workers "  # noqa: S608 - fragments are constants; values go in args
        "FROM reports r JOIN applications a ON a.id = r.application "
        f"WHERE r.status = 'accepted' AND {where} GROUP BY r.period ORDER BY r.period"
    )
    return sql, args


def production(scope: Scope) -> Sql:
    """Units produced per period, product and unit (accepted reports only)."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, p.product AS product, p.unit AS unit, {_sum('p.quantity')} AS quantity "  # noqa: S608 - fragments are constants; values go in args
        "FROM report_production p JOIN reports r ON r.id = p.report "
        "JOIN applications a ON a.id = r.application "
        f"WHERE r.status = 'accepted' AND {where} GROUP BY r.period, p.product, p.unit ORDER BY 1, 2, 3"
    )
    return sql, args


def sales(scope: Scope) -> Sql:
    """Units sold per period and product (accepted reports only)."""
    where, args = scope.where()
    sql = (
        f"SELECT r.period AS month, s.product AS product, {_sum('s.quantity')} AS quantity "  # noqa: S608 - fragments are constants; values go in args
        "FROM report_sales s JOIN reports r ON r.id = s.report "
        "JOIN applications a ON a.id = r.application "
        f"WHERE r.status = 'accepted' AND {where} GROUP BY r.period, s.product ORDER BY 1, 2"
    )
    return sql, args


def all_queries(scope: Scope, depth: int | None, sqlite: bool) -> dict[str, Sql]:
    """Every aggregate the dashboard runs, by name (what a benchmark replays)."""
    return {
        "status_counts": status_counts(scope),
        "applications_by_place": applications_by_place(scope, depth),
        "money_by_place": money_by_place(scope, depth),
        "workers_by_place": workers_by_place(scope, depth),
        "money_by_month": money_by_month(scope, sqlite),
        "workers_by_month": workers_by_month(scope),
        "production": production(scope),
        "sales": sales(scope),
    }
