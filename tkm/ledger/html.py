"""The funds trail page of an application: entries with running balances, totals, download links.

CSV and XLSX are the API's own downloads (``/api/v1/applications/{id}/funds-trail?format=...``),
which accept the session cookie; the signed PDF is ordered with a small form (it is a letter,
made by a worker) and then listed with the application's letters.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tkm.applications import services as application_services
from tkm.auth.guards import provide_user
from tkm.auth.roles import CurrentUser
from tkm.core import db
from tkm.core.i18n import _
from tkm.ledger import services
from tkm.web.flash import flash

#: The page shows at most this many lines; the downloads have them all.
MAX_LINES = 2000


async def funds_trail(application_id: int, user: CurrentUser) -> dict[str, Any]:
    """Entries and totals up to one moment, as the API's JSON (404 when the user may not see the application)."""
    bound = await services.readable_trail(application_id, user)
    entries = []
    async for line in services.trail(application_id, up_to_seq=bound):
        entries.append(line)
        if len(entries) >= MAX_LINES:
            break
    return {
        "application_id": application_id,
        "entries": entries,
        "totals": await services.totals(application_id, up_to_seq=bound),
        "truncated": len(entries) >= MAX_LINES,
    }


async def _latest_pdf(application_id: int) -> dict[str, Any] | None:
    from tkm.documents.tables import Document

    row = (
        await Document.select(Document.id, Document.number, Document.status)
        .where(Document.application == application_id, Document.kind == "funds_trail")
        .order_by(Document.id, ascending=False)
        .first()
    )
    return row


class FundsTrailPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/applications/{application_id:int}/funds-trail")
    async def page(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> Template:
        from tkm.documents.services import FUNDS_TRAIL_ISSUERS

        trail = await funds_trail(application_id, user)
        app = await application_services.get_application(application_id, user)
        return Template(
            "ledger/funds_trail.html",
            context={
                "app": app,
                "trail": trail,
                "api": f"/api/v1/applications/{application_id}/funds-trail",
                "pdf": await _latest_pdf(application_id),
                "can_issue": user.role in FUNDS_TRAIL_ISSUERS,
            },
        )

    @post("/applications/{application_id:int}/funds-trail/pdf")
    async def order_pdf(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], application_id: FromPath[int]
    ) -> Redirect:
        """The same letter as ``?format=pdf`` on the API: issued now, rendered by a worker."""
        from tkm.documents import services as documents

        trail = await funds_trail(application_id, user)
        body = {"application_id": application_id, "entries": trail["entries"], "totals": trail["totals"]}
        async with db.transaction():
            document_id = await documents.issue_funds_trail(application_id, body, actor=user)
        document = await documents.get_document(document_id, user)
        if document["status"] == "ready":
            flash(request, _("The signed PDF is ready."))
        else:
            flash(request, _("The signed PDF is being made; reload this page in a moment."))
        return Redirect(f"/applications/{application_id}/funds-trail#pdf", status_code=303)


async def trail_panel(app: dict[str, Any], user: CurrentUser) -> dict[str, Any] | None:
    """A short funds-trail section on the application page, once money is committed."""
    if not app.get("approved_budget"):
        return None
    totals = await services.totals(int(app["id"]))
    return {
        "title": _("Funds trail"),
        "rows": [
            [_("Approved"), _rupiah(totals["approved"])],
            [_("Paid to the group"), _rupiah(totals["disbursed"])],
            [_("Grant money spent"), _rupiah(totals["grant_spent"])],
            [_("Not yet spent"), _rupiah(totals["unspent"])],
            *([[_("Released to the programme"), _rupiah(totals["released"])]] if totals["released"] else []),
            [_("The group's own money"), _rupiah(totals["own_balance"])],
        ],
        "links": [[_("The whole funds trail, with downloads"), f"/applications/{app['id']}/funds-trail"]],
    }


def _rupiah(amount: int) -> str:
    from tkm.core.money import rupiah

    return rupiah(amount)
