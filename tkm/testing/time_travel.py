"""Move an application's approval into the past, so that months of reports can be filed (tests, the demo).

This edits the row directly, as a fixture would load older data; nothing in the app is replaced. History
events, audit events and letters keep the moment they were really written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tkm.programmes.services import JAKARTA


class Caller(Protocol):
    """Runs an async function where the database pool lives (``tests.support.api.Api.call``)."""

    def call(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any: ...


def months_ago(n: int, day: int = 15) -> dt.datetime:
    """9:00 in Jakarta on ``day`` of the month ``n`` months before this one (after it for a negative ``n``), in UTC."""
    now = dt.datetime.now(JAKARTA)
    years, month0 = divmod(now.month - 1 - n, 12)  # a count of months from January, wrapped both ways
    year, month = now.year + years, month0 + 1
    return dt.datetime(year, month, day, 9, 0, tzinfo=JAKARTA).astimezone(dt.UTC)


def period(n_months_ago: int) -> str:
    """The report period (``YYYY-MM``, Jakarta) ``n_months_ago`` months before this one."""
    local = months_ago(n_months_ago).astimezone(JAKARTA)
    return f"{local.year:04d}-{local.month:02d}"


async def backdate_approval(application_id: int, n_months_ago: int, day: int = 15) -> dt.datetime:
    """Set the application's ``approved_at`` to ``months_ago(n_months_ago, day)``; returns that moment."""
    from tkm.applications.tables import Application

    moment = months_ago(n_months_ago, day)
    await Application.update({Application.approved_at: moment}).where(Application.id == application_id)
    day = moment.astimezone(JAKARTA).date()
    await redate_letters(application_id, "approval_decree", day)
    # The agreement is made with the decree, and cites it (its number and date, as redated).
    from tkm.documents.cycle import letter_of

    decree = await letter_of(application_id, "approval_decree")
    await redate_letters(application_id, "cooperation_agreement", day, cite={"decree": decree} if decree else None)
    return moment


async def redate_letters(
    application_id: int,
    kind: str,
    day: dt.date,
    *,
    tranche: int | None = None,
    also: tuple[str, ...] = (),
    cite: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Date the application's not yet rendered letters of ``kind`` on ``day``, as if issued then: the letter's
    date, the month and year of its number, and the dates in it that would otherwise come after it
    (``also``: context keys with an ``on``, e.g. the decree's verification record), and what it cites of letters
    redated before it (``cite``: context key → ``{"number", "on"}``).

    Only for data moved into the past (the demo, tests): a letter that is rendered keeps what it shows.
    """
    import json

    from tkm.documents import numbering, offices
    from tkm.documents.tables import Document

    query = Document.select().where(
        Document.application == application_id, Document.kind == kind, Document.status == "pending"
    )
    if tranche is not None:
        query = query.where(Document.tranche == tranche)
    for row in await query:
        context = json.loads(row["context"]) if isinstance(row["context"], str) else dict(row["context"])
        office = await offices.get_office(row["office"])
        number = numbering.format_number(
            office["numbering_pattern"],
            seq=int(row["seq"]),
            kind_code=office["kind_codes"][kind],
            office=office["code"],
            on=day,
        )
        if day.year != int(row["year"]):
            number = row["number"]  # another year's register: keep the number as it was taken
        context["document"]["dated_on"] = day.isoformat()
        context["document"]["number"] = number
        for key in ("verification", "event", *also):
            part = context.get(key)
            if isinstance(part, dict) and part.get("on") and part["on"] > day.isoformat():
                part["on"] = day.isoformat()
        for key, cited in (cite or {}).items():
            if isinstance(context.get(key), dict):
                context[key].update(cited)
        await Document.update(
            {Document.context: json.dumps(context, ensure_ascii=False), Document.number: number}
        ).where(Document.id == row["id"])


def approve_in_the_past(api: Caller, application_id: int, n_months_ago: int) -> None:
    api.call(backdate_approval, application_id, n_months_ago)
