"""GET /api/v1/applications/{id}/funds-trail (API.md, Funds trail): JSON, or a CSV / XLSX download."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Stream

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core import cells
from tkm.core.openapi import downloads
from tkm.core.params import IdempotencyKey, optional_json_object
from tkm.core.schemas import Out, out
from tkm.documents.schemas import DocumentOut
from tkm.ledger import exports, returns, services


class TrailLineOut(Out):
    #: The day the money moved (YYYY-MM-DD): a transfer's date, the last day of a report's period, a deposit's
    #: date; a reversal carries the day of what it undoes.
    at: str
    #: When the entry was recorded (timestamp with offset).
    recorded_at: str
    kind: str
    component: str
    amount: int
    reference: str
    actor: str
    balance_after: int
    transaction_id: int
    reverses: int | None
    notes: str


class ComponentTotalsOut(Out):
    approved: int
    disbursed: int


class ComponentPoolOut(Out):
    approved: int
    disbursed: int
    #: Grant money of this component the group reported spending (never more than disbursed).
    grant_spent: int
    #: Grant money of this component deposited back to the state treasury.
    returned: int
    #: Grant money of this component the group still holds (never below zero).
    unspent: int


class TotalsOut(Out):
    approved: int
    disbursed: int
    #: Everything the group reported spending: grant_spent + own_spent.
    spent: int
    revenue: int
    #: Sales money the group spent on the business (= own_spent).
    reinvested: int
    #: Grant money the group still holds: disbursed − grant_spent − returned (= grant_unspent, never below zero).
    unspent: int
    #: approved money given back to the programme (not paid: a terminated grant, a completed grant's remainder)
    released: int
    grant_spent: int
    grant_unspent: int
    own_spent: int
    #: The group's own money: revenue − own_spent (never below zero).
    own_balance: int
    returned: int
    by_component: dict[str, ComponentPoolOut]
    components: dict[str, ComponentTotalsOut]


class FundsTrailOut(Out):
    application_id: int
    entries: list[TrailLineOut]
    totals: TotalsOut


DESCRIPTION = """\
Every movement of this application's money, oldest first. Entries are never edited or deleted;
a correction is a `reversal` line (with `reverses` = the transaction it undoes and a negative amount).

A grant has two pools that never mix: the grant money paid to the group (per RAB component) and the
group's own money from its sales. Line kinds: `commit` (approved budget, per component), `payment` (paid
to the group, per component), `report_expense` (grant money spent, per component), `report_revenue`
(sales), `report_reinvestment` (the group's own sales money spent on the business), `return` (grant money
deposited back to the treasury), `release` (what was still committed goes back to the programme; the
amount reads positive, per component), `reversal`.

`amount` is integer rupiah, positive for what happened and negative when a reversal undoes it.

**`balance_after`** is the grant money the group still holds after the line: everything paid to it so far
minus what it spent of it and returned (payments add, grant spending and returns subtract, reversals undo;
commitments, sales and sales-funded spending leave it unchanged). It never goes below zero, and the last
line's `balance_after` equals `totals.unspent`.

`totals`: `approved`, `disbursed`, `spent` (grant + own spending), `revenue`, `reinvested` (= `own_spent`),
`unspent` (= `grant_unspent` = disbursed − grant_spent − returned), `grant_spent`, `own_spent`,
`own_balance` (= revenue − own_spent), `returned`, `released` (given back to the programme; `approved` =
committed + disbursed is what stays approved, so the decree's amount is `approved` + `released`), and
`by_component` (`approved`, `disbursed`,
`grant_spent`, `returned`, `unspent` per component; `components` keeps approved/disbursed only).

`?format=csv` streams the lines as UTF-8 CSV (with a byte-order mark for spreadsheet programs; `?sep=semicolon`
or `?sep=;` separates fields with `;` for spreadsheet programs set to Indonesian);
`?format=xlsx` returns a workbook with a "Funds trail" and a "Totals" sheet. Another format is 415.
Downloads are for people: headings and words in the request's language (Bahasa Indonesia by default)
instead of codes, dates as days (XLSX: real dates), money as whole numbers (XLSX: with a rupiah format),
and text that a spreadsheet would run as a formula (`= + - @`) prefixed with an apostrophe.
Who may read it: the applicant (own applications), reviewers, approvers and finance staff of the
region, auditors and admins; anyone else gets 404.
"""


class FundsTrailController(Controller):
    path = "/api/v1/applications"
    tags = ["funds trail"]
    dependencies = {"user": Provide(provide_user)}

    @get(
        "/{application_id:int}/funds-trail",
        summary="Funds trail of an application (JSON, CSV or XLSX)",
        description=DESCRIPTION,
        operation_class=downloads("text/csv", exports.XLSX_MEDIA_TYPE),
        responses={
            202: ResponseSpec(
                DocumentOut, description="?format=pdf: the letter is being made; poll Location", generate_examples=False
            ),
            303: ResponseSpec(
                None, description="?format=pdf: the letter is ready; Location is its PDF", generate_examples=False
            ),
        },
        opt={"problems": (415,)},
    )
    async def funds_trail(
        self,
        user: NamedDependency[CurrentUser],
        application_id: FromPath[int],
        format: FromQuery[str | None] = None,
        sep: FromQuery[str | None] = None,
    ) -> Response[FundsTrailOut]:
        kind = exports.check_format(format)
        delimiter = cells.separator(sep)
        bound = await services.readable_trail(application_id, user)
        if kind == "csv":
            return Stream(  # type: ignore[return-value]
                exports.csv_chunks(application_id, bound, delimiter),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": exports.disposition(application_id, "csv")},
            )
        if kind == "xlsx":
            workbook = await exports.xlsx_file(application_id, bound)
            return Stream(  # type: ignore[return-value]
                exports.file_chunks(workbook),
                media_type=exports.XLSX_MEDIA_TYPE,
                headers={"Content-Disposition": exports.disposition(application_id, "xlsx")},
            )
        body: dict[str, Any] = {
            "application_id": application_id,
            "entries": [line async for line in services.trail(application_id, up_to_seq=bound)],
            "totals": await services.totals(application_id, up_to_seq=bound),
        }
        if kind == "pdf":
            return await _pdf(application_id, body, user)  # type: ignore[return-value]
        return Response(out(FundsTrailOut, body))


WHOLE_DESCRIPTION = """\
Every funds-trail line of every application in scope, streamed: the per-grant trail's columns and words
(see `GET /api/v1/applications/{id}/funds-trail`) after the application's id, group and region, by
application and then oldest line first. `balance_after` is the grant's own running balance, as in its trail.

Filters: `programme` (code), `region` (a code; its sub-regions count), `from` and `to` (YYYY-MM-DD, on the
line's day in Western Indonesia time, both included). `format=csv` (the default; `sep=semicolon` for `;`)
or `format=xlsx`. Finance staff see their regions, auditors everything; anyone else gets 403.
Memory stays flat however many lines there are: the database is read in batches, the CSV is written as it
is read and the workbook is written in write-only mode to a temporary file, then streamed.
"""


class WholeTrailController(Controller):
    path = "/api/v1/funds-trail"
    tags = ["funds trail"]
    dependencies = {"user": Provide(provide_user)}

    @get(
        "/",
        summary="Every funds-trail line in scope (CSV or XLSX)",
        description=WHOLE_DESCRIPTION,
        operation_class=downloads("text/csv", exports.XLSX_MEDIA_TYPE),
        opt={"problems": (415,)},
    )
    async def whole_trail(
        self,
        user: NamedDependency[CurrentUser],
        programme: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        format: FromQuery[str | None] = None,
        sep: FromQuery[str | None] = None,
    ) -> Stream:
        export = await exports.whole_trail_export(user, programme, region, date_from, date_to, format, sep)
        return Stream(
            export.chunks,
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )


async def _pdf(application_id: int, trail: dict[str, Any], user: CurrentUser) -> Response[Any]:
    """The trail as a signed PDF letter, made by a worker: 303 to the file when it is ready, otherwise
    202 with the document (poll its ``/pdf`` link, given in ``Location``)."""
    from tkm.core import db
    from tkm.documents import services as documents

    async with db.transaction():
        document_id = await documents.issue_funds_trail(application_id, trail, actor=user)
    document = await documents.get_document(document_id, user)
    location = f"/api/v1/documents/{document_id}/pdf"
    if document["status"] == "ready":
        return Redirect(location, status_code=303)  # type: ignore[return-value]
    return Response(out(DocumentOut, document), status_code=202, headers={"Location": location})


class ReturnOut(Out):
    id: int
    application_id: int
    amount: int
    deposited_on: str
    #: The treasury's receipt number (16 letters and digits).
    ntpn: str
    #: The proof of deposit (an attachment of the application).
    attachment_id: int | None
    notes: str
    #: How the amount was taken from each component's grant money.
    by_component: dict[str, int]
    transaction_id: int
    recorded_at: str
    #: The receipt letter (return_receipt); only in the answer to the POST.
    document_id: int | None = None


class ReturnsController(Controller):
    path = "/api/v1/applications/{application_id:int}/returns"
    tags = ["funds trail"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=201,
        guards=[roles(Role.finance)],
        summary="Record a deposit of unspent grant money to the state treasury (finance; send Idempotency-Key)",
        description=(
            "Body `{amount, deposited_on, ntpn, attachment_id, notes}`: at most the grant money the group still "
            "holds (`grant_unspent`, 409 otherwise), a deposit date not in the future, the 16-character NTPN and "
            "the id of the proof of deposit uploaded to the application (kind `receipt`). Posts a `return` to the "
            "funds trail and issues a receipt letter (`return_receipt`)."
        ),
        opt={"problems": (409,)},
    )
    async def record(
        self,
        request: Request[Any, Any, Any],
        user: NamedDependency[CurrentUser],
        application_id: FromPath[int],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReturnOut]:
        body = await optional_json_object(request)
        outcome = await returns.record_return(application_id, user, body, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(out(ReturnOut, outcome.body), status_code=outcome.status_code, headers=headers)

    @get("/", summary="The application's deposits to the state treasury")
    async def list(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> list[ReturnOut]:
        return out(list[ReturnOut], await returns.list_returns(application_id, user))
