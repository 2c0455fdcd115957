"""Programmes, groups and applications for the ledger tests, made without the applications API.

Programmes go through the admin API; groups and applications are rows written by
``tkm.testing.seeding`` (no members, budget lines or history: the ledger needs none).
"""

from __future__ import annotations

import itertools
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.testing import seeding
from tkm.testing.builders import programme_body

_codes = itertools.count(1)
COMPONENT_RULES = {
    "capital": {"max": 10_000_000_000},
    "wages": {"max": 10_000_000_000, "daily_wage_max": 150_000},
    "product_development": {"max": 10_000_000_000},
    "marketing": {"max": 10_000_000_000},
}


def make_programme(api: Any, admin: dict[str, Any], *, ceiling: int, regions: list[str] | None = None) -> int:
    code = f"LEDGER-{next(_codes)}-{id(api) % 1000}"
    body = programme_body(
        code=code,
        name=f"TKM Pemula {code}",
        budget_ceiling=ceiling,
        max_per_group=ceiling,
        min_members=1,
        regions=regions or ["13"],
        opens_on="2020-01-01",
        closes_on="2099-12-31",
        components={k: {**v, "max": min(v["max"], ceiling)} for k, v in COMPONENT_RULES.items()},
    )
    r = api.client.post("/api/v1/programmes", json=body, headers=admin["headers"])
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def make_application(
    api: Any,
    applicant: dict[str, Any],
    programme_id: int,
    *,
    region: str = "13.71",
    status: str = "approved",
    recommended_budget: dict[str, int] | None = None,
) -> dict[str, int]:
    group_id = api.call(seeding.insert_group, applicant["id"], region, f"Kelompok Jahit {next(_codes)}")
    application_id = api.call(
        seeding.insert_application,
        programme_id,
        group_id,
        applicant["id"],
        region,
        status=status,
        recommended_budget=recommended_budget or {},
    )
    return {"id": application_id, "group_id": group_id, "programme_id": programme_id}


def actor(user: dict[str, Any], regions: tuple[str, ...] = ("13",)) -> CurrentUser:
    """The CurrentUser the services expect, for a user made by ``api.make_user``."""
    return CurrentUser(
        id=user["id"], email=user["email"], name=user["email"].split("@")[0], role=user["role"], regions=regions
    )
