"""Production, sales and reinvestment reports (API.md)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.pagination import page_params
from tkm.core.params import IfMatch
from tkm.core.schemas import out
from tkm.reports import services
from tkm.reports.schemas import ReportIn, ReportOut, ReportPageOut
from tkm.workflow.engine import parse_if_match


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    notes: str = ""


class ApplicationReportsController(Controller):
    path = "/api/v1/applications/{application_id:int}/reports"
    tags = ["reports"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[roles(Role.applicant)],
        summary="File the monthly report of one period (applicant)",
    )
    async def create(
        self, user: NamedDependency[CurrentUser], application_id: FromPath[int], data: JSONBody[ReportIn]
    ) -> ReportOut:
        return out(ReportOut, await services.submit(application_id, user, data))

    @get("/", summary="The application's reports, oldest period first")
    async def list(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> list[ReportOut]:
        return out(list[ReportOut], await services.list_for_application(application_id, user))


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    dependencies = {"user": Provide(provide_user)}

    @get("/", summary="Reports you may see (the reviewer's queue: ?status=submitted)")
    async def queue(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> ReportPageOut:
        return out(ReportPageOut, await services.list_reports(user, page_params(page, per_page), status, region))

    @get("/{report_id:int}", summary="One report with its review history")
    async def get_one(self, user: NamedDependency[CurrentUser], report_id: FromPath[int]) -> ReportOut:
        return out(ReportOut, await services.get_report(report_id, user))

    @put(
        "/{report_id:int}",
        guards=[roles(Role.applicant)],
        summary="Correct a report sent back for revision (applicant); it waits for review again",
    )
    async def correct(
        self,
        user: NamedDependency[CurrentUser],
        report_id: FromPath[int],
        data: JSONBody[ReportIn],
        if_match: IfMatch = None,
    ) -> ReportOut:
        return out(ReportOut, await services.correct(report_id, user, data, parse_if_match(if_match)))

    @post(
        "/{report_id:int}/actions/{action:str}",
        status_code=HTTP_200_OK,
        summary="accept or request_revision (reviewer); accepting posts the report to the funds trail",
    )
    async def act(
        self,
        user: NamedDependency[CurrentUser],
        report_id: FromPath[int],
        action: FromPath[str],
        data: JSONBody[ReviewIn | None] = None,
        if_match: IfMatch = None,
    ) -> ReportOut:
        notes = data.notes if data else ""
        return out(ReportOut, await services.review(report_id, action, user, notes, parse_if_match(if_match)))
