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
    return moment


def approve_in_the_past(api: Caller, application_id: int, n_months_ago: int) -> None:
    api.call(backdate_approval, application_id, n_months_ago)
