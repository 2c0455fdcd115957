"""Who may see an application: its applicant; staff covering its region; auditors and admins.

A record the caller may not see is answered exactly like one that does not exist.
"""

from __future__ import annotations

import json
from typing import Any

from tkm.applications.tables import Application
from tkm.auth.roles import CurrentUser, Role
from tkm.core import db
from tkm.core.errors import NotFound, NotYours
from tkm.core.i18n import _

JSON_FIELDS = ("business_plan", "recommended_budget", "approved_budget", "scores")


def can_see(actor: CurrentUser, row: dict[str, Any]) -> bool:
    if actor.sees_everything:
        return True
    if actor.role == Role.applicant:
        return int(row["applicant"]) == actor.id
    return actor.covers(row["region"])


def visible_condition(actor: CurrentUser) -> Any:
    """A WHERE clause for lists (None: no limit)."""
    if actor.sees_everything:
        return None
    if actor.role == Role.applicant:
        return Application.applicant == actor.id
    return actor.region_condition(Application.region)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


async def load(application_id: int, actor: CurrentUser, *, lock: bool = False) -> dict[str, Any]:
    """The application row (JSON fields decoded) if ``actor`` may see it; 404 otherwise."""
    query = Application.select().where(Application.id == application_id)
    row = await (db.for_update(query) if lock else query).first()
    if row is None:
        raise NotFound(_("Application %(id)s not found.", id=application_id))
    if not can_see(actor, row):
        raise NotYours(_("Application %(id)s not found.", id=application_id))
    return _decode(row)
