"""Regional quotas of a programme: how much of its ceiling each region may approve.

A programme's ``quotas`` is ``{region code: rupiah}``. A region's quota covers the applications of that region
and of every region under it (``13`` covers ``13.71``), and where several quotas cover an application (``13``
and ``13.71``) each must have room for it. What a quota has used is the money approved to the programme's
applications in that region, read from the funds trail (``tkm.ledger.regional``): committed plus disbursed,
so reversals and releases give room back.

Rules of the quotas themselves: known region codes inside the programme's regions, whole rupiah ≥ 0; the
quotas that no other quota encloses add up to at most the budget ceiling, and the quotas directly inside
another one add up to at most that one (a nested quota is a share of its parent's, not extra money). A quota
may not be set below what its region has already approved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tkm import regions
from tkm.core import db
from tkm.core.errors import FieldError
from tkm.core.i18n import N_, _
from tkm.core.money import rupiah
from tkm.ledger.regional import approved_by_region, approved_within, within
from tkm.programmes.tables import Programme

QUOTA_EXHAUSTED = N_("Regional quota exhausted")
QUOTA_BELOW_APPROVED = N_("Quota below what is approved")


def field(code: str) -> str:
    """The field path of one quota in a request body (``quotas.13.71``)."""
    return f"quotas.{code}"


def loads(value: Any) -> dict[str, int]:
    data = json.loads(value) if isinstance(value, str) else value
    return {str(k): int(v) for k, v in (data or {}).items()}


def _encloser(code: str, codes: list[str]) -> str | None:
    """The nearest other quota region that encloses ``code`` (None: only the ceiling does)."""
    parents = [other for other in codes if other != code and within(code, other)]
    return max(parents, key=len) if parents else None


def check(quotas: dict[str, int], programme_regions: list[str], ceiling: int) -> list[FieldError]:
    """What is wrong with a programme's quotas (the rules of the module docstring), as field errors."""
    errors: list[FieldError] = []
    valid: list[str] = []
    for code, amount in quotas.items():
        if not regions.exists(code):
            errors.append(FieldError(field(code), _("Unknown region code %(code)s.", code=code)))
        elif not any(within(code, r) for r in programme_regions):
            errors.append(
                FieldError(
                    field(code),
                    _(
                        "%(region)s is outside the programme's regions (%(regions)s).",
                        region=f"{regions.name(code)} ({code})",
                        regions=", ".join(programme_regions) or "-",
                    ),
                )
            )
        elif amount < 0:
            errors.append(FieldError(field(code), _("Must be zero or a positive whole number of rupiah.")))
        else:
            valid.append(code)
    if errors:
        return errors
    inside: dict[str | None, list[str]] = {}
    for code in valid:
        inside.setdefault(_encloser(code, valid), []).append(code)
    outermost = sum(quotas[c] for c in inside.get(None, []))
    if outermost > ceiling > 0:
        errors.append(
            FieldError(
                "quotas",
                _(
                    "The quotas add up to %(total)s, more than the budget ceiling of %(ceiling)s.",
                    total=rupiah(outermost),
                    ceiling=rupiah(ceiling),
                ),
            )
        )
    for parent in sorted(c for c in inside if c is not None):
        nested = sum(quotas[c] for c in inside[parent])
        if nested > quotas[parent]:
            errors.append(
                FieldError(
                    field(parent),
                    _(
                        "The quotas inside %(region)s add up to %(total)s, more than its own quota of %(quota)s.",
                        region=f"{regions.name(parent)} ({parent})",
                        total=rupiah(nested),
                        quota=rupiah(quotas[parent]),
                    ),
                )
            )
    return errors


@dataclass(frozen=True)
class QuotaUse:
    region: str
    quota: int
    used: int

    @property
    def left(self) -> int:
        return max(self.quota - self.used, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_name": regions.name(self.region),
            "quota": self.quota,
            "used": self.used,
            "left": self.left,
        }


async def usage(programme_id: int, quotas: dict[str, int]) -> list[QuotaUse]:
    """Each quota of the programme with the money approved in its region, in region-code order."""
    if not quotas:
        return []
    by_region = await approved_by_region(programme_id)
    return [QuotaUse(code, quotas[code], approved_within(by_region, code)) for code in sorted(quotas)]


async def programme_quotas(programme_id: int, *, lock: bool = False) -> tuple[str, dict[str, int]]:
    """The programme's code and quotas; ``lock`` holds its row (PostgreSQL) until the transaction ends, so two
    approvals in one region, or an approval and a change of the quotas, follow one another."""
    query = Programme.select(Programme.code, Programme.quotas).where(Programme.id == programme_id)
    if lock and db.in_transaction():
        query = db.for_update(query)
    row = await query.first()
    return (row["code"], loads(row["quotas"])) if row else ("", {})


async def shortfall(
    programme_id: int, region: str, needed: int, *, lock: bool = False, counted: int = 0
) -> QuotaUse | None:
    """The quota covering ``region`` that has no room for ``needed`` more rupiah (the one with least left), or
    None when every covering quota has room. ``counted`` is the part of ``needed`` already committed (and so in
    the usage): the check after the approval's own commitment."""
    _code, quotas = await programme_quotas(programme_id, lock=lock)
    covering = {code: amount for code, amount in quotas.items() if within(region, code)}
    if not covering or needed <= 0:
        return None
    uses = [QuotaUse(u.region, u.quota, u.used - counted) for u in await usage(programme_id, covering)]
    short = [use for use in uses if use.used + needed > use.quota]
    return min(short, key=lambda use: (use.left, -len(use.region))) if short else None


def shortfall_message(use: QuotaUse, needed: int) -> str:
    return _(
        "Regional quota of %(region)s (%(code)s): %(left)s left, this approval needs %(needed)s.",
        region=regions.name(use.region),
        code=use.region,
        left=rupiah(use.left),
        needed=rupiah(needed),
    )


def below_approved(new_quotas: dict[str, int], uses: list[QuotaUse]) -> list[FieldError]:
    """Quotas set below what their regions have already approved (``uses`` computed for ``new_quotas``)."""
    return [
        FieldError(
            field(use.region),
            _(
                "%(region)s has already approved %(used)s; the quota cannot be less than that.",
                region=f"{regions.name(use.region)} ({use.region})",
                used=rupiah(use.used),
            ),
        )
        for use in uses
        if new_quotas[use.region] < use.used
    ]
