"""Values and request bodies for test and demo data: NIKs, members, programmes, budgets, business plans, scores.

The bodies are the JSON the API takes (dicts); ``msgspec.convert(body, Schema)`` turns one into the
schema a service function takes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tkm.programmes.services import today

_serial = itertools.count(1)
_code = itertools.count(1)

#: The attachments an application needs before it can be submitted.
REQUIRED_KINDS = ("proposal", "ktp", "sk_kelompok")
RUBRIC_SCORES = {"business_feasibility": 4, "market": 4, "group_capacity": 3, "budget_fit": 4, "employment": 5}

FEMALE_NAMES = ["Siti", "Nur", "Dewi", "Rina", "Yuliani", "Fitri", "Aisyah", "Wulan", "Lestari", "Rahmi", "Sri"]
MALE_NAMES = ["Ahmad", "Budi", "Joko", "Rudi", "Hendra", "Agus", "Fajar", "Rizki", "Andi", "Iwan", "Eko"]
SURNAMES = ["Rahmawati", "Santoso", "Putra", "Hidayat", "Wulandari", "Saputra", "Kurniawan", "Syahputri", "Lubis"]


def nik(
    district: str = "137101",
    born: dt.date = dt.date(1985, 3, 12),
    female: bool = False,
    serial: int | None = None,
) -> str:
    """A valid NIK: the district, the birth date (women's day plus 40) and a serial (unique in this process
    unless given)."""
    day = born.day + (40 if female else 0)
    number = next(_serial) % 9999 + 1 if serial is None else serial
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{number:04d}"


def person_name(female: bool, first: int, last: int) -> str:
    """An Indonesian name: the ``first``-th given name and ``last``-th surname (both wrap around)."""
    given = FEMALE_NAMES if female else MALE_NAMES
    return f"{given[first % len(given)]} {SURNAMES[last % len(SURNAMES)]}"


def member_roles(count: int) -> list[str]:
    """The board (ketua, sekretaris, bendahara) first, then ordinary members."""
    return (["ketua", "sekretaris", "bendahara"] + ["anggota"] * max(count - 3, 0))[:count]


def member(nik: str, name: str, role: str, female: bool, phone: str) -> dict[str, Any]:
    """One member as ``POST /api/v1/groups`` takes it."""
    return {"nik": nik, "name": name, "role": role, "gender": "P" if female else "L", "phone": phone}


def members(count: int = 10, district: str = "137101") -> list[dict[str, Any]]:
    out = []
    for i, role in enumerate(member_roles(count)):
        female = i % 2 == 0
        born = dt.date(1980 + i % 20, 1 + i % 12, 1 + i % 27)
        out.append(member(nik(district, born, female), f"Anggota {i + 1}", role, female, f"0812{next(_serial):08d}"))
    return out


def programme_body(**overrides: Any) -> dict[str, Any]:
    """An open TKM Pemula programme for West Sumatra (region 13), a unique code unless given."""
    code = f"TKM-T{next(_code):04d}"
    body = {
        "code": code,
        "name": f"TKM Pemula uji {code}",
        "workflow": "tkm-pemula",
        "fiscal_year": 2020,
        "budget_ceiling": 1_000_000_000,
        "max_per_group": 25_000_000,
        "min_members": 5,
        "max_members": 20,
        "regions": ["13"],
        "opens_on": (today() - dt.timedelta(days=30)).isoformat(),
        "closes_on": (today() + dt.timedelta(days=60)).isoformat(),
        "components": {
            "capital": {"max": 12_000_000},
            "wages": {"max": 6_000_000, "daily_wage_max": 100_000},
            "product_development": {"max": 4_000_000},
            "marketing": {"max": 3_000_000},
        },
    }
    body.update(overrides)
    return body


#: What each budget line buys, per component (a sewing group's first grant).
BUDGET_DESCRIPTIONS = {
    "capital": "Mesin jahit dan bahan kain",
    "wages": "Upah penjahit",
    "product_development": "Desain dan label",
    "marketing": "Promosi pasar lokal",
}


def budget(
    capital: int = 10_000_000,
    wages_days: int = 50,
    daily_wage: int = 80_000,
    product_development: int = 2_000_000,
    marketing: int = 1_000_000,
    descriptions: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One line per component: capital, wages (days times the daily wage), product development, marketing."""
    words = {**BUDGET_DESCRIPTIONS, **(descriptions or {})}
    lines = [
        ("capital", 1, "paket", capital),
        ("wages", wages_days, "hari", daily_wage),
        ("product_development", 1, "paket", product_development),
        ("marketing", 1, "paket", marketing),
    ]
    return [
        {"component": c, "description": words[c], "quantity": quantity, "unit": unit, "unit_cost": cost}
        for c, quantity, unit, cost in lines
    ]


def plan(**overrides: Any) -> dict[str, Any]:
    """A business plan: masks and soap for the market of Padang, unless ``overrides`` say otherwise."""
    body: dict[str, Any] = {
        "summary": "Produksi masker kain dan sabun untuk pasar Padang.",
        "products": [{"product": "masker", "unit": "pcs", "units_per_day": 200, "unit_cost": 2500, "unit_price": 5000}],
        "market": "Apotek, pasar, dan sekolah di Kota Padang.",
        "workers": 10,
    }
    body.update(overrides)
    return body


def rubric(**overrides: int) -> dict[str, int]:
    """The reviewer's scores (1..5) for every criterion of the rubric."""
    return {**RUBRIC_SCORES, **overrides}


#: Standard paths through the application workflows: the actions that take a new draft to each state (the
#: workflow files allow these). Tests, the demo and benchmarks walk them; what each action needs (bodies,
#: attachments, paid tranches) is the walker's business.
PATHS: dict[str, list[str]] = {
    "draft": [],
    "submitted": ["submit"],
    "in_review": ["submit", "start_review"],
    "revision_requested": ["submit", "start_review", "request_revision"],
    "recommended": ["submit", "start_review", "recommend"],
    "not_recommended": ["submit", "start_review", "not_recommend"],
    "approved": ["submit", "start_review", "recommend", "approve"],
    "rejected": ["submit", "start_review", "recommend", "reject"],
    "withdrawn": ["withdraw"],
    "active": ["submit", "start_review", "recommend", "approve", "sign_agreement"],
    "completed": ["submit", "start_review", "recommend", "approve", "sign_agreement", "complete"],
    "suspended": ["submit", "start_review", "recommend", "approve", "sign_agreement", "suspend"],
    "terminated": ["submit", "start_review", "recommend", "approve", "sign_agreement", "terminate"],
    "field_verified": ["submit", "start_review", "verify_field"],
}


#: Who signs the letters of a test's or a fresh installation's default office (tests set them on the migrated
#: template, so journeys issue letters; an office with none refuses to issue).
SIGNATORIES: dict[str, dict[str, str]] = {
    "default": {
        "name": "Drs. Rahmat Hidayat, M.Si.",
        "nip": "196805121994031003",
        "rank": "Pembina Utama Muda (IV/c)",
        "title": "Direktur Bina Pemagangan dan Perluasan Kesempatan Kerja",
    },
    "approval_decree": {
        "name": "Hendra Putra, S.E., M.M.",
        "nip": "197503102000031002",
        "rank": "Pembina (IV/a)",
        "title": "Pejabat Pembuat Komitmen",
    },
    "payment_order": {
        "name": "Yusuf Hakim, S.E., Ak.",
        "nip": "198001152005011004",
        "rank": "Penata Tingkat I (III/d)",
        "title": "Pejabat Penandatangan Surat Perintah Membayar",
    },
    "handover_record": {
        "name": "Hendra Putra, S.E., M.M.",
        "nip": "197503102000031002",
        "rank": "Pembina (IV/a)",
        "title": "Pejabat Pembuat Komitmen",
    },
}


def set_default_office_signatories(database_url: str | None, sqlite_path: str | None = None) -> None:
    """Write ``SIGNATORIES`` onto the default office of a migrated database (PostgreSQL URL or SQLite file)."""
    import json

    value = json.dumps(SIGNATORIES, ensure_ascii=False)
    if sqlite_path:
        import sqlite3

        conn = sqlite3.connect(sqlite_path)
        try:
            with conn:
                conn.execute("UPDATE offices SET signatories = ? WHERE is_default = 1", (value,))
            # The template is copied as one file: fold the write-ahead log back into it.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return

    import asyncio

    import asyncpg

    async def update() -> None:
        conn = await asyncpg.connect(database_url, timeout=5)
        try:
            await conn.execute("UPDATE offices SET signatories = $1 WHERE is_default", value)
        finally:
            await conn.close()

    asyncio.run(update())
