"""The public verification page: what a code stands for, and whether an uploaded file is the original."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm.core.errors import Problem
from tkm.documents import services

UploadForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PAGE = "documents/verify.html"


def _page(status: int = 200, **context: Any) -> Template:
    document = context.get("document")
    context.setdefault("code", "")
    if document:
        context["issued_on"] = dt.date.fromisoformat(document["issued_on"])
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
            document = await services.verification(code)
        except Problem as problem:
            return _page(problem.status, document=None, code=code, asked=True)
        return _page(document=document, code=code)

    @post("/verify/{code:str}")
    async def check(self, code: FromPath[str], data: UploadForm) -> Template:
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile):
                document = await services.verification(code)
                return _page(422, document=document, code=code, missing_file=True)
            result = await services.check_file(code, content=await upload.read())
        except Problem as problem:
            return _page(problem.status, document=None, code=code, asked=True)
        return _page(document=result, code=code, result=result, filename=upload.filename)
