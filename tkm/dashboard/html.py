"""The monitoring page (``/dashboard``): the same figures as ``GET /api/v1/dashboard``, with charts."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Template

from tkm.applications.html import region_filter_options, state_labels
from tkm.auth.guards import provide_user
from tkm.auth.roles import CurrentUser, Role
from tkm.core import charts
from tkm.core.errors import Problem
from tkm.core.i18n import N_, _
from tkm.core.pagination import page_params
from tkm.dashboard import services
from tkm.programmes.services import list_programmes

MONEY_SERIES = (("disbursed", N_("Disbursed"), "#1f4e79"), ("spent", N_("Spent"), "#9aa5b1"))
RESULT_SERIES = (("revenue", N_("Revenue"), "#3d7a2a"), ("reinvested", N_("Reinvested"), "#a9d18e"))
PLACE_SERIES = (
    ("approved", N_("Approved"), "#0b5d7a"),
    ("disbursed", N_("Disbursed"), "#5b9bd5"),
    ("revenue", N_("Revenue"), "#3d7a2a"),
)
PRODUCT_SERIES = (("produced", N_("Produced"), "#0b5d7a"), ("sold", N_("Sold"), "#e0a030"))


def _series(series: tuple[tuple[str, str, str], ...]) -> list[tuple[str, str, str]]:
    return [(key, _(legend), colour) for key, legend, colour in series]


def build_charts(data: dict[str, Any]) -> dict[str, Any]:
    empty = _("No figures yet.")
    months = data["by_month"]
    return {
        "money_by_month": charts.column_chart(
            months,
            _series(MONEY_SERIES + RESULT_SERIES),
            title=_("Money by month"),
            desc=_("Disbursed, spent, revenue and reinvested per month; the table below has the amounts."),
            empty=empty,
            profile=charts.SCREEN,
        ),
        "by_region": charts.bar_chart(
            data["by_region"],
            _series(PLACE_SERIES),
            title=_("Money by region"),
            desc=_("Approved, disbursed and revenue per region; the table below has the amounts."),
            label_key="region_name",
            empty=empty,
            profile=charts.SCREEN,
        ),
        "by_training_centre": charts.bar_chart(
            [{**r, "name": r["name"] or _("No training centre")} for r in data["by_training_centre"]],
            _series(PLACE_SERIES),
            title=_("Money by training centre"),
            desc=_("Approved, disbursed and revenue per training centre; the table below has the amounts."),
            empty=empty,
            profile=charts.SCREEN,
        ),
        "products": charts.bar_chart(
            data["products"],
            _series(PRODUCT_SERIES),
            title=_("Units produced and sold"),
            desc=_("Units produced and sold per product in accepted reports; the table below has the numbers."),
            label_key="product",
            money=False,
            empty=empty,
            profile=charts.SCREEN,
        ),
    }


class DashboardPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/dashboard")
    async def page(
        self,
        user: NamedDependency[CurrentUser],
        programme: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
    ) -> Template:
        errors: dict[str, str] = {}
        status = 200
        try:
            data = await services.dashboard(user, programme, region)
        except Problem as problem:  # a bad filter: say so next to the field and show the unfiltered figures
            errors = {e.field: e.message for e in problem.errors} or {"region": problem.detail}
            status = problem.status
            data = await services.dashboard(user)
        programmes = (await list_programmes(page_params(1, 200)))["items"]
        return Template(
            "dashboard/index.html",
            context={
                "data": data,
                "charts": build_charts(data),
                "errors": errors,
                "chosen": {"programme": programme or "", "region": region or ""},
                "programme_options": [(p["code"], p["name"]) for p in programmes],
                "region_options": [] if user.role == Role.applicant else region_filter_options(user),
                "state_labels": state_labels(),
            },
            status_code=status,
        )
