"""Programmes, groups and applications for the ledger tests, made without the applications API.

Programmes go through the admin API; groups and applications are inserted directly
(the applications column names are used in raw SQL, so this does not depend on the
Python attribute names of the Application table).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from tkm.auth.roles import CurrentUser

_codes = itertools.count(1)
COMPONENT_RULES = {
    "capital": {"max": 10_000_000_000},
    "wages": {"max": 10_000_000_000, "daily_wage_max": 150_000},
    "product_development": {"max": 10_000_000_000},
    "marketing": {"max": 10_000_000_000},
}


def make_programme(api: Any, admin: dict[str, Any], *, ceiling: int, regions: list[str] | None = None) -> int:
    code = f"LEDGER-{next(_codes)}-{id(api) % 1000}"
    body = {
        "code": code,
        "name": f"TKM Pemula {code}",
        "workflow": "tkm-pemula",
        "fiscal_year": 2020,
        "budget_ceiling": ceiling,
        "max_per_group": ceiling,
        "min_members": 1,
        "max_members": 20,
        "regions": regions or ["13"],
        "opens_on": "2020-01-01",
        "closes_on": "2099-12-31",
        "components": {k: {**v, "max": min(v["max"], ceiling)} for k, v in COMPONENT_RULES.items()},
    }
    r = api.client.post("/api/v1/programmes", json=body, headers=admin["headers"])
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def insert_group(owner_id: int, region: str, name: str) -> int:
    from tkm.groups.tables import Group

    now = dt.datetime.now(dt.UTC)
    rows = await Group.insert(
        Group(name=name, region=region, owner=owner_id, created_at=now, updated_at=now, products="[]")
    ).returning(Group.id)
    return int(rows[0]["id"])


async def insert_application(
    programme_id: int,
    group_id: int,
    applicant_id: int,
    region: str,
    *,
    status: str = "approved",
    recommended_budget: dict[str, int] | None = None,
) -> int:
    from tkm.core import db

    now = dt.datetime.now(dt.UTC)
    row = await db.fetch_one(
        "INSERT INTO applications (programme, group_id, applicant, region, workflow, status, version, "
        "business_plan, requested_total, recommended_budget, approved_budget, approved_total, scores, "
        "created_at, updated_at) VALUES ({}, {}, {}, {}, 'tkm-pemula', {}, 1, {}, 0, {}, {}, 0, {}, {}, {}) "
        "RETURNING id",
        programme_id,
        group_id,
        applicant_id,
        region,
        status,
        "{}",
        json.dumps(recommended_budget or {}),
        "{}",
        "{}",
        now,
        now,
    )
    assert row is not None
    return int(row["id"])


def make_application(
    api: Any,
    applicant: dict[str, Any],
    programme_id: int,
    *,
    region: str = "13.71",
    status: str = "approved",
    recommended_budget: dict[str, int] | None = None,
) -> dict[str, int]:
    group_id = api.call(insert_group, applicant["id"], region, f"Kelompok Jahit {next(_codes)}")
    application_id = api.call(
        insert_application,
        programme_id,
        group_id,
        applicant["id"],
        region,
        status=status,
        recommended_budget=recommended_budget,
    )
    return {"id": application_id, "group_id": group_id, "programme_id": programme_id}


def actor(user: dict[str, Any], regions: tuple[str, ...] = ("13",)) -> CurrentUser:
    """The CurrentUser the services expect, for a user made by ``api.make_user``."""
    return CurrentUser(
        id=user["id"], email=user["email"], name=user["email"].split("@")[0], role=user["role"], regions=regions
    )
