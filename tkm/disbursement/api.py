"""Tranches, payment batches and bank statements (API.md: Tranches)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import _
from tkm.core.openapi import downloads
from tkm.core.pagination import page_params
from tkm.core.params import IdempotencyKey, optional_json_object
from tkm.core.schemas import out
from tkm.disbursement import bankfiles, services
from tkm.disbursement.schemas import PaymentBatchOut, StatementOut, TrancheOut, TranchePageOut


@dataclass
class StatementForm:
    file: UploadFile


class TrancheController(Controller):
    tags = ["disbursement"]
    dependencies = {"user": Provide(provide_user)}

    @get("/api/v1/applications/{application_id:int}/tranches", summary="The application's tranches")
    async def for_application(
        self, user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> list[TrancheOut]:
        return out(list[TrancheOut], await services.list_for_application(application_id, user))

    @get("/api/v1/tranches", summary="Tranches you may see, by status (the finance queue)")
    async def queue(
        self,
        user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
    ) -> TranchePageOut:
        params = page_params(page, per_page)
        items, total = await services.list_tranches(user, status, params.per_page, params.offset)
        return out(TranchePageOut, params.envelope(items, total))

    @post(
        "/api/v1/tranches/{tranche_id:int}/actions/{action:str}",
        status_code=HTTP_200_OK,
        summary="request, authorize, pay {transfer_reference, paid_at} or fail {reason} (finance); "
        "send Idempotency-Key",
        response_description="The tranche after the action; a repeat with the same key replays it "
        "(header Idempotent-Replayed: true)",
    )
    async def act(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        tranche_id: FromPath[int],
        action: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TrancheOut]:
        body = await optional_json_object(request)
        outcome = await services.act(tranche_id, action, user, body, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(out(TrancheOut, outcome.body), status_code=outcome.status_code, headers=headers)

    @get(
        "/api/v1/payment-batches",
        summary="Authorized tranches as a bank bulk-transfer file (?format=csv, the default) or as JSON (?format=json)",
        operation_class=downloads("text/csv"),
    )
    async def batch(
        self, user: NamedDependency[CurrentUser], status: FromQuery[str | None] = None, format: FromQuery[str] = "csv"
    ) -> Response[PaymentBatchOut]:
        """``status`` defaults to the tranches waiting for the bank (authorized, in the standard flow)."""
        if format == "json":
            items, total = await services.list_tranches(user, status or services.flow().states_with("payable"), 200, 0)
            return Response(out(PaymentBatchOut, {"items": items, "total": total}))
        if format != "csv":
            raise ValidationProblem([FieldError("format", _("Use csv or json."))])
        stream = bankfiles.batch_csv(user, status)
        # The file name is a header: only the characters of state names, whatever was asked.
        name = re.sub(r"[^a-z0-9_-]+", "-", status or "-".join(services.flow().states_with("payable")))[:60]
        first = await stream.__anext__()  # raises 403 before any byte is sent

        async def body() -> Any:
            yield first
            async for chunk in stream:
                yield chunk

        return Stream(  # type: ignore[return-value]
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="tkm-payment-batch-{name}.csv"'},
        )

    @post(
        "/api/v1/bank-statements",
        status_code=200,
        guards=[roles(Role.finance)],
        summary="Upload a bank statement CSV (reference, amount[, date, transfer_reference]); marks matches paid",
    )
    async def statement(self, user: NamedDependency[CurrentUser], data: MultipartBody[StatementForm]) -> StatementOut:
        try:
            raw = await data.file.read(bankfiles.MAX_STATEMENT_BYTES + 1)
        finally:
            await data.file.close()
        return out(StatementOut, await bankfiles.apply_statement(user, raw))
