"""Response shapes of /api/v1/regions."""

from __future__ import annotations

from tkm.core.schemas import Out


class RegionOut(Out):
    code: str
    name: str
    #: province | regency | district
    level: str
    parent: str | None


class RegionListOut(Out):
    items: list[RegionOut]


class RegionWithLineageOut(RegionOut):
    #: From the province down to the region itself.
    lineage: list[RegionOut]
