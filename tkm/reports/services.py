"""Monthly reports: filing with its rules, review (accept / request revision), and reading.

Rules (422 naming the field unless said otherwise): only while the application's
state has the trait ``reports_due`` (or ``final_report_due``, for the final report); one report per
period (409); the period from the month of approval up to the current month;
quantities and amounts are whole numbers ≥ 0; units sold ≤ units produced
plus stock carried over from earlier periods. Every expense says who paid it
(``source``: ``grant`` with its RAB ``component``, or ``sales``): grant money spent
per component ≤ what the group holds of it; own money spent ≤ its earlier own
money plus this month's sales; ``reinvested`` is derived (the sales-funded
spending; a client that sends it must send that figure). Review and correction run through the report flow
(``workflows/flows/report.toml``) and its one transition runner; accepting posts the
report's expenses, revenue and reinvestment to the funds trail in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from tkm.applications import access
from tkm.applications.tables import Application
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, NotYours, ValidationProblem
from tkm.core.i18n import _
from tkm.core.money import rupiah
from tkm.core.pagination import PageParams
from tkm.ledger.accounts import SOURCES
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.services import JAKARTA
from tkm.reports.schemas import ReportIn
from tkm.reports.tables import Report, ReportExpense, ReportProduction, ReportSale
from tkm.web.labels import label
from tkm.workflow import engine, history, loader
from tkm.workflow.definition import Workflow

PERIOD_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
EXPENSE_CATEGORIES = ("raw_materials", "equipment", "wages", "marketing", "other")
MAX_AMOUNT = 10**13
MAX_LINES = 100


def flow() -> Workflow:
    return loader.flow("report")


def current_period() -> str:
    now = dt.datetime.now(JAKARTA)
    return f"{now.year:04d}-{now.month:02d}"


def period_of(value: dt.datetime) -> str:
    local = value.astimezone(JAKARTA)
    return f"{local.year:04d}-{local.month:02d}"


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount(value: Any, field: str, errors: list[FieldError]) -> int:
    if not _is_int(value) or value < 0 or value > MAX_AMOUNT:
        errors.append(FieldError(field, _("Must be a whole number, zero or more.")))
        return 0
    return int(value)


def _product(name: Any) -> str:
    return str(name or "").strip().lower()


def _check(data: ReportIn) -> tuple[dict[str, Any], list[FieldError]]:
    """Checks that need no database: shapes, signs, categories, the period's format."""
    errors: list[FieldError] = []
    if not PERIOD_RE.match(data.period or ""):
        errors.append(FieldError("period", _("Write the month as YYYY-MM, e.g. 2020-04.")))
    for name, lines in (("production", data.production), ("sales", data.sales), ("expenses", data.expenses)):
        if len(lines) > MAX_LINES:
            errors.append(FieldError(name, _("At most %(n)d lines.", n=MAX_LINES)))
    production: dict[str, int] = defaultdict(int)
    units: dict[str, str] = {}
    for i, line in enumerate(data.production):
        product = _product(line.product)
        if not product or len(product) > 60:
            errors.append(FieldError(f"production[{i}].product", _("A product is a short name, e.g. masker.")))
        unit = (line.unit or "").strip()
        if not unit or len(unit) > 30:
            errors.append(FieldError(f"production[{i}].unit", _("Give the unit, e.g. pcs, liter, batang.")))
        production[product] += _amount(line.quantity, f"production[{i}].quantity", errors)
        units.setdefault(product, unit)
    sales: dict[str, tuple[int, int]] = {}
    sale_index: dict[str, int] = {}
    for i, sale in enumerate(data.sales):
        product = _product(sale.product)
        if not product or len(product) > 60:
            errors.append(FieldError(f"sales[{i}].product", _("A product is a short name, e.g. masker.")))
        quantity = _amount(sale.quantity, f"sales[{i}].quantity", errors)
        revenue = _amount(sale.revenue, f"sales[{i}].revenue", errors)
        before = sales.get(product, (0, 0))
        sales[product] = (before[0] + quantity, before[1] + revenue)
        sale_index.setdefault(product, i)
    # Lines by (category, source, component); the first line of each says where an error points.
    expenses: dict[tuple[str, str, str], int] = defaultdict(int)
    expense_index: dict[tuple[str, str, str], int] = {}
    for i, expense in enumerate(data.expenses):
        key = f"expenses[{i}]"
        if expense.category not in EXPENSE_CATEGORIES:
            errors.append(
                FieldError(f"{key}.category", _("Use one of: %(names)s.", names=", ".join(EXPENSE_CATEGORIES)))
            )
            continue
        if expense.source not in SOURCES:
            errors.append(
                FieldError(
                    f"{key}.source",
                    _("Say who paid: grant (the TKM grant's money) or sales (the group's own money)."),
                )
            )
            continue
        component = ""
        if expense.source == "grant":
            if expense.component not in COMPONENTS:
                errors.append(
                    FieldError(
                        f"{key}.component",
                        _("Say which budget component paid: %(names)s.", names=", ".join(COMPONENTS)),
                    )
                )
                continue
            component = expense.component
        elif expense.component not in (None, ""):
            errors.append(FieldError(f"{key}.component", _("Only grant-funded spending names a component.")))
            continue
        line = (expense.category, expense.source, component)
        expenses[line] += _amount(expense.amount, f"{key}.amount", errors)
        expense_index.setdefault(line, i)
    own_spent = sum(a for (_c, source, _k), a in expenses.items() if source == "sales")
    grant_spent: dict[str, int] = defaultdict(int)
    for (_category, source, component), amount in expenses.items():
        if source == "grant":
            grant_spent[component] += amount
    if data.reinvested is not None:
        sent = _amount(data.reinvested, "reinvested", errors)
        if _is_int(data.reinvested) and sent != own_spent:
            errors.append(
                FieldError(
                    "reinvested",
                    _(
                        "Reinvested is what the group spent of its own sales money this month (%(derived)s, from "
                        "the expense lines paid from sales), not %(sent)s.",
                        derived=rupiah(own_spent),
                        sent=rupiah(sent),
                    ),
                )
            )
    wages_paid = _amount(data.wages_paid, "wages_paid", errors)
    workers = data.workers
    if not _is_int(workers) or not 0 <= workers <= 10000:
        errors.append(FieldError("workers", _("How many people worked: a whole number, zero or more.")))
        workers = 0
    if len(data.notes) > 4000:
        errors.append(FieldError("notes", _("At most %(n)d characters.", n=4000)))
    clean = {
        "period": data.period,
        "production": dict(production),
        "units": units,
        "sales": sales,
        "sale_index": sale_index,
        "expenses": dict(expenses),
        "expense_index": expense_index,
        "grant_spent": dict(grant_spent),
        "reinvested": own_spent,
        "workers": workers,
        "wages_paid": wages_paid,
        "notes": data.notes.strip(),
        "final": bool(data.final),
        "revenue": sum(r for _q, r in sales.values()),
    }
    return clean, errors


async def _stock_before(application_id: int, period: str, exclude_report: int | None) -> dict[str, int]:
    """Units produced minus units sold in the application's earlier periods, by product."""
    made = await db.fetch(
        "SELECT p.product, SUM(p.quantity) AS q FROM report_production p JOIN reports r ON r.id = p.report "
        "WHERE r.application = {} AND r.period < {} AND r.id <> {} GROUP BY p.product",
        application_id,
        period,
        exclude_report or 0,
    )
    sold = await db.fetch(
        "SELECT s.product, SUM(s.quantity) AS q FROM report_sales s JOIN reports r ON r.id = s.report "
        "WHERE r.application = {} AND r.period < {} AND r.id <> {} GROUP BY s.product",
        application_id,
        period,
        exclude_report or 0,
    )
    stock: dict[str, int] = defaultdict(int)
    for row in made:
        stock[row["product"]] += int(row["q"])
    for row in sold:
        stock[row["product"]] -= int(row["q"])
    return dict(stock)


async def _check_against_records(app: dict[str, Any], clean: dict[str, Any], report_id: int | None) -> None:
    errors: list[FieldError] = []
    period = clean["period"]
    if app["approved_at"] is None:
        raise Conflict(_("Reports start once the application is approved."))
    first = period_of(app["approved_at"])
    if period < first:
        errors.append(
            FieldError("period", _("The first period you can report is %(first)s, the month of approval.", first=first))
        )
    if period > current_period():
        errors.append(FieldError("period", _("%(period)s has not started yet.", period=period)))
    stock = await _stock_before(int(app["id"]), period, report_id)
    for product, (sold, _revenue) in clean["sales"].items():
        available = stock.get(product, 0) + clean["production"].get(product, 0)
        if sold > available:
            errors.append(
                FieldError(
                    f"sales[{clean['sale_index'][product]}].quantity",
                    _(
                        "%(sold)d %(product)s sold, but only %(available)d were made or in stock.",
                        sold=sold,
                        product=product,
                        available=available,
                    ),
                )
            )
    await _check_pools(int(app["id"]), clean, errors)
    if errors:
        raise ValidationProblem(errors)


async def _check_pools(application_id: int, clean: dict[str, Any], errors: list[FieldError]) -> None:
    """Grant money spent per component ≤ what the group holds of it; own money spent ≤ its own money (the
    earlier balance plus this month's sales). An error names the first line of the pool it breaks."""
    from tkm.ledger import services as ledger

    held = await ledger.pools(application_id)
    first = clean["expense_index"]
    for component, amount in clean["grant_spent"].items():
        have = held["grant"].get(component, 0)
        if amount > have:
            line = min(i for (_c, source, k), i in first.items() if source == "grant" and k == component)
            errors.append(
                FieldError(
                    f"expenses[{line}].amount",
                    _(
                        "%(amount)s of grant money spent on %(component)s, but the group holds %(have)s of it "
                        "(paid to it and not yet spent or returned).",
                        amount=rupiah(amount),
                        component=label(component, "component"),
                        have=rupiah(have),
                    ),
                )
            )
    own = held["own"] + clean["revenue"]
    if clean["reinvested"] > own:
        line = min(i for (_c, source, _k), i in first.items() if source == "sales")
        errors.append(
            FieldError(
                f"expenses[{line}].amount",
                _(
                    "%(amount)s spent from the group's own money, but it has %(own)s (earlier sales money not yet "
                    "spent, plus this month's sales).",
                    amount=rupiah(clean["reinvested"]),
                    own=rupiah(own),
                ),
            )
        )


def _may_report(app: dict[str, Any], final: bool) -> None:
    workflow = loader.get(app["workflow"])
    if workflow.has(app["status"], "reports_due") or (final and workflow.has(app["status"], "final_report_due")):
        return
    raise Conflict(
        _(
            "Reports are filed while the grant is active (this application is %(state)s).",
            state=workflow.state_label(app["status"]),
        ),
        extra={"current_status": app["status"]},
    )


async def _write_lines(report_id: int, clean: dict[str, Any]) -> None:
    await ReportProduction.delete().where(ReportProduction.report == report_id)
    await ReportSale.delete().where(ReportSale.report == report_id)
    await ReportExpense.delete().where(ReportExpense.report == report_id)
    if clean["production"]:
        await ReportProduction.insert(
            *[
                ReportProduction(report=report_id, product=p, unit=clean["units"][p], quantity=q)
                for p, q in clean["production"].items()
            ]
        )
    if clean["sales"]:
        await ReportSale.insert(
            *[ReportSale(report=report_id, product=p, quantity=q, revenue=r) for p, (q, r) in clean["sales"].items()]
        )
    if clean["expenses"]:
        await ReportExpense.insert(
            *[
                ReportExpense(report=report_id, category=c, source=source, component=component, amount=a)
                for (c, source, component), a in clean["expenses"].items()
            ]
        )


async def submit(application_id: int, actor: CurrentUser, data: ReportIn) -> dict[str, Any]:
    if actor.role != Role.applicant:
        raise Forbidden(_("Only the group's leader files its reports."))
    clean, errors = _check(data)
    if errors:
        raise ValidationProblem(errors)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        app = await access.load(application_id, actor, lock=True)
        _may_report(app, clean["final"])
        if await Report.exists().where(Report.application == application_id, Report.period == clean["period"]):
            raise Conflict(
                _("There is already a report for %(period)s; correct that one instead.", period=clean["period"]),
                errors=[FieldError("period", _("Already reported."))],
            )
        if clean["final"] and await Report.exists().where(Report.application == application_id, Report.final.eq(True)):
            raise Conflict(
                _("This application already has a final report."), errors=[FieldError("final", _("Already reported."))]
            )
        await _check_against_records(app, clean, None)
        rows = await Report.insert(
            Report(
                application=application_id,
                period=clean["period"],
                status=flow().initial,
                final=clean["final"],
                revenue=clean["revenue"],
                expenses_total=sum(clean["expenses"].values()),
                reinvested=clean["reinvested"],
                workers=clean["workers"],
                wages_paid=clean["wages_paid"],
                notes=clean["notes"],
                version=1,
                submitted_by=actor.id,
                submitted_at=now,
            )
        ).returning(Report.id)
        report_id = int(rows[0]["id"])
        await _write_lines(report_id, clean)
        await history.append(
            "report", report_id, flow().created_action, actor, to_state=flow().initial, at=now, notes=clean["notes"]
        )
        await audit.record(
            "report.submitted",
            actor_id=actor.id,
            actor=actor.email,
            object_type="report",
            object_id=report_id,
            details={"application": application_id, "period": clean["period"]},
        )
    return await get_report(report_id, actor)


async def load_for_action(report_id: int, actor: CurrentUser, lock: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report and its application, 404 unless ``actor`` may see the application; with ``lock`` the
    application is locked first, then the report (the one lock order everywhere)."""
    row = await Report.select(Report.application).where(Report.id == report_id).first()
    if row is None:
        raise NotFound(_("Report %(id)s not found.", id=report_id))
    try:
        app = await access.load(int(row["application"]), actor, lock=lock)
    except NotFound:
        raise NotYours(_("Report %(id)s not found.", id=report_id)) from None
    query = Report.select().where(Report.id == report_id)
    report = await (db.for_update(query) if lock else query).first()
    return report, app


async def correct(report_id: int, actor: CurrentUser, data: ReportIn, if_match: int | None) -> dict[str, Any]:
    """The applicant answers a revision request: the whole report again, then it waits for review
    (the report flow's ``resubmit``; its effect ``rewrite_report`` checks the content against the records)."""
    clean, errors = _check(data)
    if errors:
        raise ValidationProblem(errors)
    await engine.run("report", report_id, "resubmit", actor, None, if_match, payload=clean, internal=True)
    return await get_report(report_id, actor)


async def rewrite(row: dict[str, Any], app: dict[str, Any], clean: dict[str, Any], now: dt.datetime) -> None:
    """Replace a report's content with the corrected ``clean`` one (inside the resubmit transition)."""
    if clean["period"] != row["period"]:
        raise ValidationProblem([FieldError("period", _("The period of a report cannot change."))])
    _may_report(app, clean["final"])
    await _check_against_records(app, clean, int(row["id"]))
    await Report.update(
        {
            Report.final: clean["final"],
            Report.revenue: clean["revenue"],
            Report.expenses_total: sum(clean["expenses"].values()),
            Report.reinvested: clean["reinvested"],
            Report.workers: clean["workers"],
            Report.wages_paid: clean["wages_paid"],
            Report.notes: clean["notes"],
            Report.submitted_at: now,
        }
    ).where(Report.id == row["id"])
    await _write_lines(int(row["id"]), clean)


async def review(report_id: int, action: str, actor: CurrentUser, notes: str, if_match: int | None) -> dict[str, Any]:
    """A reviewer's action of the report flow (accept, request_revision) with its notes."""
    await engine.run("report", report_id, action, actor, {"notes": notes}, if_match)
    return await get_report(report_id, actor)


async def post_to_funds_trail(row: dict[str, Any], actor: CurrentUser) -> int | None:
    """Post an accepted report: revenue into the group's own money, grant-funded spending out of each
    component's grant money, sales-funded spending out of the own money (dated by the report's period)."""
    from tkm.ledger import services as ledger

    grant: dict[str, int] = defaultdict(int)
    own = 0
    for line in await ReportExpense.select().where(ReportExpense.report == row["id"]):
        if line["source"] == "grant":
            grant[line["component"]] += int(line["amount"])
        else:
            own += int(line["amount"])
    if not any(grant.values()) and not own and not row["revenue"]:
        return None  # nothing moved this month; the report still counts
    return await ledger.record_report(
        int(row["application"]),
        grant_spent=dict(grant),
        own_spent=own,
        revenue=int(row["revenue"]),
        reference=f"LAP-{row['application']}-{row['period']}",
        actor=actor,
        period=row["period"],
    )


def reinvestment_rate(reinvested: int, revenue: int) -> float | None:
    return round(reinvested / revenue, 4) if revenue else None


async def report_out(row: dict[str, Any]) -> dict[str, Any]:
    production = (
        await ReportProduction.select().where(ReportProduction.report == row["id"]).order_by(ReportProduction.id)
    )
    sales = await ReportSale.select().where(ReportSale.report == row["id"]).order_by(ReportSale.id)
    expenses = await ReportExpense.select().where(ReportExpense.report == row["id"]).order_by(ReportExpense.id)
    events = await history.events("report", int(row["id"]))
    return {
        "id": row["id"],
        "application_id": row["application"],
        "period": row["period"],
        "status": row["status"],
        "final": bool(row["final"]),
        "version": row["version"],
        "production": [{"product": p["product"], "unit": p["unit"], "quantity": p["quantity"]} for p in production],
        "sales": [{"product": s["product"], "quantity": s["quantity"], "revenue": s["revenue"]} for s in sales],
        "expenses": [
            {
                "category": e["category"],
                "amount": e["amount"],
                "source": e["source"],
                "component": e["component"] or None,
            }
            for e in expenses
        ],
        "revenue": row["revenue"],
        "expenses_total": row["expenses_total"],
        "reinvested": row["reinvested"],
        "reinvestment_rate": reinvestment_rate(int(row["reinvested"]), int(row["revenue"])),
        "workers": row["workers"],
        "wages_paid": row["wages_paid"],
        "notes": row["notes"],
        "review_notes": row["review_notes"],
        "submitted_at": row["submitted_at"].isoformat(),
        "reviewed_at": row["reviewed_at"].isoformat() if row["reviewed_at"] else None,
        "history": [
            {
                "seq": e["seq"],
                "action": e["action"],
                "actor": e["actor_name"],
                "at": e["at"].isoformat(),
                "notes": e["notes"],
            }
            for e in events
        ],
    }


async def get_report(report_id: int, actor: CurrentUser) -> dict[str, Any]:
    row, _app = await load_for_action(report_id, actor, False)
    return await report_out(row)


async def list_for_application(application_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    await access.load(application_id, actor)
    rows = await Report.select().where(Report.application == application_id).order_by(Report.period)
    return [await report_out(r) for r in rows]


async def list_reports(
    actor: CurrentUser, params: PageParams, status: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """The reviewer's queue (and anyone's view of the reports they may see)."""
    conditions: list[Any] = []
    visible = access.visible_condition(actor)
    if visible is not None:
        # access.visible_condition speaks of Application columns; follow the report's foreign key.
        if actor.role == Role.applicant:
            conditions.append(Report.application.applicant == actor.id)
        else:
            conditions.append(actor.region_condition(Report.application.region))
    if status:
        conditions.append(Report.status == status)
    if region:
        conditions.append((Report.application.region == region) | Report.application.region.like(region + ".%"))
    query, count = Report.select(), Report.count()
    for cond in conditions:
        query, count = query.where(cond), count.where(cond)
    rows = await query.order_by(Report.submitted_at).limit(params.per_page).offset(params.offset)
    items = []
    for r in rows:
        out = await report_out(r)
        group = await Application.select(Application.group_id.name).where(Application.id == r["application"]).first()
        out["group"] = group["group_id.name"] if group else ""
        items.append(out)
    return params.envelope(items, await count)
