"""/api/v1/applications, attachments and workflow actions (API.md: Applications, Workflow actions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tkm.applications import approvals, attachments, services
from tkm.applications.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPageOut,
    ApplicationPatch,
    ApprovalResultOut,
    ApprovalsIn,
    AttachmentOut,
)
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.pagination import page_params
from tkm.core.params import IfMatch, optional_json_object
from tkm.core.schemas import out
from tkm.workflow.engine import parse_if_match


@dataclass
class AttachmentForm:
    file: UploadFile
    kind: str


class ApplicationController(Controller):
    path = "/api/v1/applications"
    tags = ["applications"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[roles(Role.applicant)],
        summary="Start an application (draft) with business plan and budget",
    )
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[ApplicationIn]) -> ApplicationOut:
        return out(ApplicationOut, await services.create_application(user, data))

    @get("/", summary="Applications you may see, filtered and paged")
    async def list(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        programme: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> ApplicationPageOut:
        applications = await services.list_applications(
            user, page_params(page, per_page), status=status, programme=programme, region=region, q=q
        )
        return out(ApplicationPageOut, applications)

    @get("/{application_id:int}", summary="One application with history, allowed actions and rubric")
    async def get_one(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> ApplicationOut:
        return out(ApplicationOut, await services.get_application(application_id, user))

    @patch(
        "/{application_id:int}",
        guards=[roles(Role.applicant)],
        summary="Change the business plan or budget (draft or revision requested)",
    )
    async def update(
        self,
        user: NamedDependency[CurrentUser],
        application_id: FromPath[int],
        data: JSONBody[ApplicationPatch],
        if_match: IfMatch = None,
    ) -> ApplicationOut:
        changed = await services.patch_application(application_id, user, data, parse_if_match(if_match))
        return out(ApplicationOut, changed)

    @post(
        "/{application_id:int}/actions/{action:str}",
        status_code=HTTP_200_OK,
        summary="Run a workflow action (If-Match: the version you read)",
    )
    async def act(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        application_id: FromPath[int],
        action: FromPath[str],
        if_match: IfMatch = None,
    ) -> ApplicationOut:
        body = await optional_json_object(request)
        return out(ApplicationOut, await services.act(application_id, action, user, body, parse_if_match(if_match)))

    @post(
        "/{application_id:int}/attachments",
        status_code=HTTP_201_CREATED,
        guards=[roles(Role.applicant)],
        summary="Upload an attachment (multipart: file, kind); PDF, JPEG or PNG by content, 10 MB max",
    )
    async def upload(
        self, user: NamedDependency[CurrentUser], application_id: FromPath[int], data: MultipartBody[AttachmentForm]
    ) -> AttachmentOut:
        try:
            stored = await attachments.upload(application_id, user, data.kind, data.file.filename, data.file.file)
            return out(AttachmentOut, stored)
        finally:
            await data.file.close()


class AttachmentController(Controller):
    path = "/api/v1/attachments"
    tags = ["applications"]
    dependencies = {"user": Provide(provide_user)}

    @get(
        "/{attachment_id:int}",
        summary="Download an attachment (same access as its application)",
        # The file's own type (PDF, JPEG or PNG, as sniffed at upload) is sent in Content-Type.
        media_type="*/*",
        response_description="The file as uploaded",
    )
    async def download(self, user: NamedDependency[CurrentUser], attachment_id: FromPath[int]) -> File:
        path, row = await attachments.open_for_download(attachment_id, user)
        return File(
            path=path,
            filename=row["filename"],
            media_type=row["content_type"],
            content_disposition_type="attachment",
            headers=attachments.VIEW_HEADERS,
        )


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ["applications"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=HTTP_200_OK,
        guards=[roles(Role.approver)],
        summary="Approve or reject several applications; the approved ones get one collective SK and an extract each",
    )
    async def decide(self, user: NamedDependency[CurrentUser], data: JSONBody[ApprovalsIn]) -> list[ApprovalResultOut]:
        body = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        return out(list[ApprovalResultOut], await approvals.decide(user, body))
