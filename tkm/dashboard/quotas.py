"""The dashboard's regional quotas: each quota of the chosen programme and how much of it is used.

Used is the money approved in the quota's region (committed + disbursed in the funds trail, the same figure
an approval is checked against). Which quotas show: without a programme none; auditors and admins see every
quota, staff those that overlap their regions (a province quota bounds a regency's approvals too), applicants
none. A ``region`` filter keeps the quotas inside it or enclosing it.
"""

from __future__ import annotations

from typing import Any

from tkm.auth.roles import CurrentUser, Role
from tkm.ledger.regional import within
from tkm.programmes import quotas


def _overlaps(a: str, b: str) -> bool:
    return within(a, b) or within(b, a)


def _visible(user: CurrentUser, code: str, region: str) -> bool:
    if region and not _overlaps(code, region):
        return False
    if user.sees_everything:
        return True
    if user.role == Role.applicant:
        return False
    return any(_overlaps(code, scope) for scope in user.regions)


async def quota_figures(user: CurrentUser, programme_id: int | None, region: str) -> list[dict[str, Any]]:
    """``[{"region", "region_name", "quota", "used", "left"}]`` in region-code order (empty without quotas)."""
    if programme_id is None:
        return []
    _code, all_quotas = await quotas.programme_quotas(programme_id)
    shown = {code: amount for code, amount in all_quotas.items() if _visible(user, code, region)}
    return [use.as_dict() for use in await quotas.usage(programme_id, shown)]
