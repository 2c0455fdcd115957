"""Roles and region scopes (API.md, Roles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Or, Where

from tkm.core.i18n import N_


class Role(StrEnum):
    applicant = "applicant"
    reviewer = "reviewer"
    approver = "approver"
    finance = "finance"
    auditor = "auditor"
    admin = "admin"


ROLES = tuple(r.value for r in Role)
#: Role names for people (translated where shown).
ROLE_LABELS = {
    Role.applicant: N_("applicant"),
    Role.reviewer: N_("reviewer"),
    Role.approver: N_("approver"),
    Role.finance: N_("finance"),
    Role.auditor: N_("auditor"),
    Role.admin: N_("admin"),
}
STAFF_ROLES = frozenset({Role.reviewer, Role.approver, Role.finance})
#: Roles that read everything (the auditor by definition; the admin to support users).
UNSCOPED_ROLES = frozenset({Role.auditor, Role.admin})


def region_covers(scope: str, region: str) -> bool:
    """``13`` covers ``13``, ``13.71`` and ``13.71.01``; ``13.7`` does not cover ``13.71``."""
    return region == scope or region.startswith(scope + ".")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str
    regions: tuple[str, ...] = field(default_factory=tuple)
    token_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in UNSCOPED_ROLES

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def covers(self, region: str) -> bool:
        """May this staff member (or auditor) see records of ``region``?"""
        if self.sees_everything:
            return True
        if self.role not in STAFF_ROLES:
            return False
        return any(region_covers(scope, region) for scope in self.regions)

    def region_condition(self, column: Column) -> Any:
        """A WHERE clause limiting ``column`` to this user's regions (None: no limit)."""
        if self.sees_everything:
            return None
        if not self.regions:
            return column == "\x00"  # matches nothing
        parts: list[Where | Or] = []
        for scope in self.regions:
            parts.append(column == scope)
            parts.append(column.like(scope + ".%"))
        condition: Any = parts[0]
        for part in parts[1:]:
            condition = condition | part
        return condition

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role, "regions": list(self.regions)}
