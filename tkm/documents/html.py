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
from tkm.core.i18n import _
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


# --- /admin/offices: who signs what, the kop surat, the numbering ---------------------------------------------------

OFFICE_TEXT_FIELDS = ("name", "address", "city", "number_pattern")


def _office_form(office: dict[str, Any]) -> dict[str, Any]:
    """The office as the edit form shows it (lists as one line each)."""
    from tkm.documents.kinds import KINDS

    return {
        **{k: office.get(k) or "" for k in ("name", "address", "city")},
        "number_pattern": office["numbering_pattern"],
        "letterhead": "\n".join(office["letterhead"]),
        "legal_bases": "\n".join(office["legal_bases"]),
        "contact": office["contact"],
        "signatories": {
            kind: office["signatories"].get(kind) or {"name": "", "nip": "", "rank": "", "title": ""}
            for kind in ("default", *KINDS)
        },
    }


def _office_patch(form: Any) -> dict[str, Any]:
    """The PATCH body an edit form stands for: rows whose name, NIP and title are all blank are left out."""
    from tkm.documents.kinds import KINDS

    data: dict[str, Any] = {k: str(form.get(k) or "") for k in OFFICE_TEXT_FIELDS}
    data["letterhead"] = [line for line in str(form.get("letterhead") or "").splitlines() if line.strip()]
    data["legal_bases"] = [line for line in str(form.get("legal_bases") or "").splitlines() if line.strip()]
    data["contact"] = {k: str(form.get(f"contact.{k}") or "") for k in ("phone", "email", "website")}
    signatories = {}
    for kind in ("default", *KINDS):
        person = {k: str(form.get(f"signatories.{kind}.{k}") or "").strip() for k in ("name", "nip", "rank", "title")}
        if person["name"] or person["nip"] or person["title"]:
            signatories[kind] = person
    data["signatories"] = signatories
    return data


class OfficePages(Controller):
    """Administrators set each office's kop surat, signatories, legal bases and numbering."""

    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}
    guards = [roles(Role.admin)]

    async def _page(
        self, office: dict[str, Any], form: dict[str, Any], errors: forms.FormErrors, status: int = 200, saved=False
    ) -> Template:
        from tkm.documents.kinds import KINDS

        kinds = [("default", _("Every other letter (default)"))] + [(k, _(v.label)) for k, v in KINDS.items()]
        return Template(
            "documents/office_form.html",
            status_code=status,
            context={"office": office, "form": form, "errors": errors, "kinds": kinds, "saved": saved},
        )

    @get("/admin/offices")
    async def index(self, user: NamedDependency[CurrentUser]) -> Template:
        from tkm.documents import offices

        return Template("documents/offices.html", context={"offices": await offices.list_offices()})

    @get("/admin/offices/{code:str}")
    async def edit(
        self, user: NamedDependency[CurrentUser], code: FromPath[str], saved: FromQuery[int] = 0
    ) -> Template:
        from tkm.documents import offices

        office = await offices.get_office(code)
        return await self._page(office, _office_form(office), forms.FormErrors(), saved=bool(saved))

    @post("/admin/offices/{code:str}")
    async def save(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], code: FromPath[str]
    ) -> Template | Redirect:
        from tkm.documents import offices
        from tkm.documents.schemas import OfficePatch

        form = await request.form()
        office = await offices.get_office(code)
        data = _office_patch(form)
        try:
            await offices.update_office(user, code, forms.convert(data, OfficePatch))
        except Problem as problem:
            shown = {
                **data,
                "letterhead": "\n".join(data["letterhead"]),
                "legal_bases": "\n".join(data["legal_bases"]),
                "signatories": {
                    k: data["signatories"].get(k) or {"name": "", "nip": "", "rank": "", "title": ""}
                    for k in _office_form(office)["signatories"]
                },
            }
            return await self._page(office, shown, forms.FormErrors.from_problem(problem), status=problem.status)
        return Redirect(f"/admin/offices/{office['code']}?saved=1", status_code=303)

    @post("/admin/offices/{code:str}/logo")
    async def logo(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], code: FromPath[str]
    ) -> Template | Redirect:
        from tkm.documents import offices

        form = await request.form()
        office = await offices.get_office(code)
        try:
            upload = forms.chosen_file(form, "logo")
            await offices.set_logo(user, code, upload.filename or "", await upload.read())
        except Problem as problem:
            return await self._page(
                office, _office_form(office), forms.FormErrors.from_problem(problem), status=problem.status
            )
        return Redirect(f"/admin/offices/{office['code']}?saved=1", status_code=303)
