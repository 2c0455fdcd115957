"""GET /api/v1/regions: province → regency/city → district codes, for forms and filters."""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath, FromQuery

from tkm import regions
from tkm.core.errors import NotFound
from tkm.core.i18n import _
from tkm.core.schemas import out
from tkm.regions.schemas import RegionListOut, RegionWithLineageOut


@get(
    "/api/v1/regions",
    tags=["regions"],
    summary="Regions under a parent code (provinces when no parent)",
    opt={"problems": (404,)},
)
async def list_regions(parent: FromQuery[str | None] = None) -> RegionListOut:
    if parent is not None and not regions.exists(parent):
        raise NotFound(_("Unknown region code %(code)s.", code=parent))
    return out(RegionListOut, {"items": [r.as_dict() for r in regions.children(parent)]})


@get("/api/v1/regions/{code:str}", tags=["regions"], summary="One region with its parents")
async def get_region(code: FromPath[str]) -> RegionWithLineageOut:
    region = regions.get(code)
    if region is None:
        raise NotFound(_("Unknown region code %(code)s.", code=code))
    return out(RegionWithLineageOut, {**region.as_dict(), "lineage": [r.as_dict() for r in regions.lineage(code)]})
