"""Daily reminders for missing monthly reports.

After a programme's due day, a group whose report for last month is missing is
reminded; after a further grace period the region's reviewers are told too.
Each notification has a key made of the application, the period and the
recipient, so however many workers run the task, and however often, each is
sent once (the key is unique in the database).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm.auth.tables import User
from tkm.core import db
from tkm.notifications.services import notify
from tkm.programmes.services import today as jakarta_today
from tkm.reports.services import period_of, previous_period
from tkm.workflow import loader


async def missing_reports(period: str) -> list[dict[str, Any]]:
    """Applications whose reports are due (a state with the trait ``reports_due``), approved in or before
    ``period``, with no report for it."""
    due = loader.sql_list(loader.states_with("application", "reports_due"))
    rows = await db.fetch(
        "SELECT a.id, a.region, a.approved_at, g.name AS group_name, u.email AS applicant_email, "  # noqa: S608
        "p.code AS programme, p.report_due_day, p.reminder_grace_days "
        "FROM applications a JOIN groups g ON g.id = a.group_id JOIN users u ON u.id = a.applicant "
        "JOIN programmes p ON p.id = a.programme "
        f"WHERE a.status IN {due} AND a.approved_at IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.application = a.id AND r.period = {}) "
        "ORDER BY a.id",
        period,
    )
    return [r for r in rows if period_of(_as_datetime(r["approved_at"])) <= period]


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


async def _reviewers_for(region: str) -> list[str]:
    rows = await User.select(User.email, User.regions).where(User.role == "reviewer", User.active.eq(True))
    out = []
    for r in rows:
        scopes = json.loads(r["regions"]) if isinstance(r["regions"], str) else r["regions"]
        if any(region == s or region.startswith(s + ".") for s in scopes):
            out.append(r["email"])
    return out


async def send_reminders(on: dt.date | None = None) -> dict[str, int]:
    on = on or jakarta_today()
    period = previous_period(f"{on.year:04d}-{on.month:02d}")
    created = {"applicants": 0, "reviewers": 0}
    for row in await missing_reports(period):
        due = dt.date(on.year, on.month, int(row["report_due_day"]))
        if on <= due:
            continue
        subject = f"Laporan {period} belum masuk"
        body = (
            f"Laporan produksi dan penjualan {row['group_name']} untuk {period} (permohonan {row['id']}, "
            f"program {row['programme']}) belum diterima. Batas waktunya tanggal {due.isoformat()}.\n"
        )
        if await notify(f"reminder-{row['id']}-{period}-applicant", row["applicant_email"], subject, body):
            created["applicants"] += 1
        if on > due + dt.timedelta(days=int(row["reminder_grace_days"])):
            for email in await _reviewers_for(row["region"]):
                key = f"reminder-{row['id']}-{period}-reviewer-{email}"
                if await notify(key, email, f"[Verifikator] {subject}", body):
                    created["reviewers"] += 1
    return created
