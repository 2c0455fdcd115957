"""Move an application's approval into the past, so that months of reports can be filed in a test.

This edits the row directly, as a test fixture would load older data; nothing in the app is replaced.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def months_ago(n: int) -> dt.datetime:
    from tkm.programmes.services import JAKARTA

    now = dt.datetime.now(JAKARTA)
    # Count months from year 0 so that n < 0 (a month ahead) works in December too.
    year, month = divmod(now.year * 12 + now.month - 1 - n, 12)
    month += 1
    return dt.datetime(year, month, 15, 9, 0, tzinfo=JAKARTA).astimezone(dt.UTC)


def period(n_months_ago: int) -> str:
    moment = months_ago(n_months_ago)
    from tkm.programmes.services import JAKARTA

    local = moment.astimezone(JAKARTA)
    return f"{local.year:04d}-{local.month:02d}"


def approve_in_the_past(api: Any, application_id: int, n_months_ago: int) -> None:
    from tkm.applications.tables import Application

    api.call(
        lambda: Application.update({Application.approved_at: months_ago(n_months_ago)}).where(
            Application.id == application_id
        )
    )
