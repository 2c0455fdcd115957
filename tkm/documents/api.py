"""/api/v1 documents, offices, programme reports and verification (API.md: Documents)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.params import IfMatch
from tkm.core.schemas import out
from tkm.documents import offices, services
from tkm.documents.schemas import (
    DocumentOut,
    OfficeIn,
    OfficeOut,
    OfficePatch,
    ProgrammeReportIn,
    VerificationOut,
)
from tkm.workflow.engine import parse_if_match


@dataclass
class FileUpload:
    file: UploadFile


@dataclass
class OptionalFile:
    file: UploadFile | None = None


class DocumentController(Controller):
    path = "/api/v1"
    tags = ["documents"]
    dependencies = {"user": Provide(provide_user)}

    @get("/applications/{application_id:int}/documents", summary="Letters issued for an application")
    async def for_application(
        self, user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> list[DocumentOut]:
        return out(list[DocumentOut], await services.list_for_application(application_id, user))

    @get("/documents/{document_id:int}", summary="One document (its status, number and fingerprint)")
    async def get_one(self, user: NamedDependency[CurrentUser], document_id: FromPath[int]) -> DocumentOut:
        return out(DocumentOut, await services.get_document(document_id, user))

    @get(
        "/documents/{document_id:int}/pdf",
        summary="Download the PDF (409 while it is being made)",
        media_type="application/pdf",
        opt={"problems": (409,)},
    )
    async def download(self, user: NamedDependency[CurrentUser], document_id: FromPath[int]) -> Response[bytes]:
        content, document = await services.pdf(document_id, user)
        return Response(
            content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{services.download_name(document)}"',
                "ETag": f'"{document["sha256"]}"',
                "Cache-Control": "private, no-cache",
            },
        )

    @post(
        "/programme-reports",
        status_code=HTTP_202_ACCEPTED,
        guards=[roles(Role.finance, Role.auditor)],
        summary="Order a programme summary (PDF made in the background)",
    )
    async def programme_report(
        self, user: NamedDependency[CurrentUser], data: JSONBody[ProgrammeReportIn]
    ) -> DocumentOut:
        return out(DocumentOut, await services.request_programme_report(user, data))


#: Offices' signatories and contact details are for staff; applicants see the letterhead on their letters.
STAFF = (Role.reviewer, Role.approver, Role.finance, Role.auditor, Role.admin)


class OfficeController(Controller):
    path = "/api/v1/offices"
    tags = ["documents"]
    dependencies = {"user": Provide(provide_user)}

    @get(
        "/",
        guards=[roles(*STAFF)],
        summary="Issuing offices: letterhead, signatories and numbering (staff, auditors and admins)",
    )
    async def list(self, user: NamedDependency[CurrentUser]) -> list[OfficeOut]:
        return out(list[OfficeOut], await offices.list_offices())

    @get("/{code:str}", guards=[roles(*STAFF)], summary="One issuing office (staff, auditors and admins)")
    async def get_one(self, user: NamedDependency[CurrentUser], code: FromPath[str]) -> OfficeOut:
        return out(OfficeOut, await offices.get_office(code))

    @post("/", status_code=HTTP_201_CREATED, guards=[roles(Role.admin)], summary="Add an issuing office (admin)")
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[OfficeIn]) -> OfficeOut:
        return out(OfficeOut, await offices.create_office(user, data))

    @patch("/{code:str}", guards=[roles(Role.admin)], summary="Change an issuing office (admin; If-Match)")
    async def update(
        self,
        user: NamedDependency[CurrentUser],
        code: FromPath[str],
        data: JSONBody[OfficePatch],
        if_match: IfMatch = None,
    ) -> OfficeOut:
        return out(OfficeOut, await offices.update_office(user, code, data, parse_if_match(if_match)))

    @put(
        "/{code:str}/logo",
        guards=[roles(Role.admin)],
        summary="Upload the office's logo for the kop surat (admin; multipart file, PNG or SVG)",
        description="An SVG with a script, an event handler, a foreignObject or a reference to another file is "
        "refused (422 naming `logo`).",
    )
    async def put_logo(
        self, user: NamedDependency[CurrentUser], code: FromPath[str], data: MultipartBody[FileUpload]
    ) -> OfficeOut:
        content = await data.file.read()
        return out(OfficeOut, await offices.set_logo(user, code, data.file.filename or "", content))

    @get("/{code:str}/logo", summary="The office's logo (PNG or SVG)", media_type="image/png")
    async def get_logo(self, user: NamedDependency[CurrentUser], code: FromPath[str]) -> Response[bytes]:
        mime, content = await offices.get_logo(code)
        # The SVG was checked on upload; the CSP keeps it inert even when opened on its own.
        return Response(
            content,
            media_type=mime,
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "Cache-Control": "private, no-cache",
            },
        )


class VerifyController(Controller):
    """Public: anyone holding a letter may check it (no login)."""

    path = "/api/v1/verify"
    tags = ["documents"]

    @get("/{code:str}", summary="What a verification code stands for; with ?sha256= whether a file matches")
    async def lookup(self, code: FromPath[str], sha256: FromQuery[str | None] = None) -> VerificationOut:
        if sha256 is not None:
            return out(VerificationOut, await services.check_file(code, sha256=sha256))
        return out(VerificationOut, await services.verification(code))

    @post(
        "/{code:str}",
        status_code=200,
        summary="Verify a file (multipart field file), or the stored one without a file: fingerprint and signature",
        # Changes nothing and needs no session: a script without a CSRF cookie may call it.
        opt={"exclude_from_csrf": True, "problems": (413, 415)},
    )
    async def check(self, code: FromPath[str], data: MultipartBody[OptionalFile | None] = None) -> VerificationOut:
        upload = data.file if data is not None else None
        content = await upload.read() if isinstance(upload, UploadFile) else None
        return out(VerificationOut, await services.verify_document(code, content=content))
