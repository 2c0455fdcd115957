"""Monitoring figures as JSON (API.md, Monitoring)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from tkm.auth.guards import provide_user
from tkm.auth.roles import CurrentUser
from tkm.core.schemas import out
from tkm.dashboard import services
from tkm.dashboard.schemas import DashboardOut


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    tags = ["monitoring"]
    dependencies = {"user": Provide(provide_user)}

    @get(
        "/",
        summary="Applications by status, money, production, revenue and workers in your scope",
        description="Scoped by the caller's regions (applicants: their own applications). "
        "`programme` is a programme code, `region` a Kemendagri code inside your regions. "
        "Money is integer rupiah; reinvestment_rate is reinvested / revenue (null without revenue).",
    )
    async def figures(
        self,
        user: NamedDependency[CurrentUser],
        programme: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
    ) -> DashboardOut:
        return out(DashboardOut, await services.dashboard(user, programme, region))
