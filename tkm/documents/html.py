"""The public verification page: what a code stands for, and whether an uploaded file is the original."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import PayloadTooLarge, Problem, UnsupportedMediaType, ValidationProblem
from tkm.core.pagination import PageParams
from tkm.documents import services
from tkm.documents.schemas import ProgrammeReportIn
from tkm.web import forms

UploadForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PAGE = "documents/verify.html"


def _page(status: int = 200, **context: Any) -> Template:
    document = context.get("document")
    context.setdefault("code", "")
    context.setdefault("upload_error", None)
    if document:
        context["issued_on"] = dt.date.fromisoformat(document["issued_on"])
        if document.get("voided_on"):
            context["voided_on"] = dt.date.fromisoformat(document["voided_on"])
        signature = document.get("signature")
        if signature and signature.get("signed_at"):
            context["signed_at"] = dt.datetime.fromisoformat(signature["signed_at"])
    return Template(PAGE, status_code=status, context=context)


class VerifyPages(Controller):
    include_in_schema = False

    @get("/verify")
    async def ask(self, code: FromQuery[str | None] = None) -> Template | Redirect:
        normalized = services.normalize_code(code or "")
        if normalized:
            return Redirect(f"/verify/{normalized}", status_code=303)
        return _page(document=None, code=code or "", asked=bool(code))

    @get("/verify/{code:str}")
    async def show(self, code: FromPath[str]) -> Template:
        try:
            # The stored file's signature, checked now against the office's certificates.
            document = await services.verify_document(code)
        except Problem as problem:
            return _page(problem.status, document=None, code=code, asked=True)
        return _page(document=document, code=code)

    @post("/verify/{code:str}")
    async def check(self, code: FromPath[str], data: UploadForm) -> Template:
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile):
                document = await services.verify_document(code)
                return _page(422, document=document, code=code, missing_file=True)
            content = await upload.read()
            try:
                result = await services.verify_document(code, content=content)
            except (UnsupportedMediaType, PayloadTooLarge, ValidationProblem) as refused:
                # The code is right, the file is not one we can check: say so beside the document.
                document = await services.verify_document(code)
                message = refused.errors[0].message if refused.errors else refused.detail
                return _page(refused.status, document=document, code=code, upload_error=message)
        except Problem as problem:
            return _page(problem.status, document=None, code=code, asked=True)
        return _page(document=result, code=code, result=result, filename=upload.filename)


# --- letters on the application page, and the programme summary form ---------------------------------------------


async def letters_panel(app: dict[str, Any], user: CurrentUser) -> dict[str, Any] | None:
    """The application's letters with download links (the tranche letters are listed with their tranches too)."""
    documents = await services.list_for_application(int(app["id"]), user)
    if not documents:
        return None
    return {"documents": documents}


async def _report_page(
    user: CurrentUser,
    values: dict[str, str],
    errors: forms.FormErrors,
    document: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    from tkm.applications.html import region_filter_options
    from tkm.programmes.services import list_programmes

    programmes = (await list_programmes(PageParams(1, 200)))["items"]
    return Template(
        "documents/programme_report.html",
        status_code=status,
        context={
            "form": values,
            "errors": errors,
            "document": document,
            "programme_options": [(p["code"], f"{p['name']} ({p['code']})") for p in programmes],
            "region_options": region_filter_options(user),
        },
    )


class ProgrammeReportPages(Controller):
    """Finance staff and auditors order a programme summary (PDF made by a worker) and fetch it when ready."""

    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}
    guards = [roles(Role.finance, Role.auditor)]

    @get("/programme-reports")
    async def form(self, user: NamedDependency[CurrentUser]) -> Template:
        return await _report_page(user, {"programme": "", "region": ""}, forms.FormErrors())

    @post("/programme-reports")
    async def order(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Template | Redirect:
        values = forms.values(await request.form(), ("programme", "region"))
        try:
            document = await services.request_programme_report(user, forms.convert(values, ProgrammeReportIn))
        except Problem as problem:
            return await _report_page(user, values, forms.FormErrors.from_problem(problem), status=problem.status)
        return Redirect(f"/programme-reports/{document['id']}", status_code=303)

    @get("/programme-reports/{document_id:int}")
    async def show(self, user: NamedDependency[CurrentUser], document_id: FromPath[int]) -> Template:
        document = await services.get_document(document_id, user)
        return await _report_page(user, {"programme": "", "region": ""}, forms.FormErrors(), document)
