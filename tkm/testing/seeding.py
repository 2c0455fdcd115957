"""Rows written straight into the database, for data that does not need to go through the workflow.

Tests of letters and of the ledger, and the letters benchmark, need an application in a given state
quickly and without the rules in the way; these functions write the rows the services would have written
(a group with members, an application with budget lines and attachments, its history). Call them inside
``db.transaction()`` where several rows must appear together (``seed_application`` does so itself).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from tkm.testing.builders import member_roles, nik, rubric

#: capital 15.000.000 + wages 6.001.000 = 21.001.000 ("dua puluh satu juta seribu rupiah").
LETTER_BUDGET_LINES = [
    ("capital", "Mesin jahit portabel", 5, "unit", 2_000_000),
    ("capital", "Kain katun dan karet", 100, "meter", 50_000),
    ("wages", "Upah penjahit dan pengemasan", 1, "paket", 6_001_000),
]
LETTER_APPROVED = {"capital": 15_000_000, "wages": 6_001_000}
LETTER_SCORES = rubric(business_feasibility=5, group_capacity=4, employment=3)
MEMBER_NAMES = ["Siti Rahmawati", "Nurhayati", "Yusnidar", "Rina Marlina", "Dewi Sartika", "Ernawati"]
DOCUMENT_KINDS = ("proposal", "ktp", "sk_kelompok")
#: The transitions from a draft to each state ``seed_application`` can write: (action, from, to).
PATH_TO = {
    "draft": [],
    "approved": [
        ("submit", "draft", "submitted"),
        ("start_review", "submitted", "in_review"),
        ("recommend", "in_review", "recommended"),
        ("approve", "recommended", "approved"),
    ],
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def insert_group(
    owner_id: int,
    region: str,
    name: str,
    *,
    members: int = 0,
    district: str | None = None,
    training_centre: int | None = None,
    address: str = "Jl. Khatib Sulaiman No. 12, Padang Utara",
    products: tuple[str, ...] = ("masker", "sabun"),
    bank: str = "Bank Nagari",
) -> int:
    """A group owned by ``owner_id`` with ``members`` women (valid NIKs of ``district``, the region's by default)."""
    from tkm.groups.tables import Group, Member

    now = _now()
    group = Group(
        name=name,
        region=region,
        address=address,
        training_centre=training_centre,
        products=json.dumps(list(products)),
        bank_name=bank,
        bank_account_number="2100123456789",
        bank_account_holder=name,
        owner=owner_id,
        created_at=now,
        updated_at=now,
    )
    await group.save()
    district = district or (region.replace(".", "") + "01")[:6]
    for i, role in enumerate(member_roles(members)):
        await Member(
            group_id=group.id,
            nik=nik(district, dt.date(1975 + i % 25, 1 + i % 12, 1 + i % 28), female=True),
            name=MEMBER_NAMES[i % len(MEMBER_NAMES)] + ("" if i < len(MEMBER_NAMES) else f" {i}"),
            role=role,
            gender="P",
            position=i,
        ).save()
    return int(group.id)


async def insert_application(
    programme_id: int, group_id: int, applicant_id: int, region: str, *, status: str = "draft", **columns: Any
) -> int:
    """An application row; ``columns`` are further ``applications`` columns (dicts and lists go in as JSON)."""
    from tkm.applications.tables import Application

    now = _now()
    values = {"created_at": now, "updated_at": now, **columns}
    values = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
    app = Application(
        programme=programme_id,
        group_id=group_id,
        applicant=applicant_id,
        region=region,
        workflow="tkm-pemula",
        status=status,
        version=1,
        **values,
    )
    await app.save()
    return int(app.id)


async def insert_budget_lines(application_id: int, lines: list[tuple[str, str, int, str, int]]) -> int:
    """``(component, description, quantity, unit, unit cost)`` lines; returns their total."""
    from tkm.applications.tables import BudgetLine

    for i, (component, description, quantity, unit, cost) in enumerate(lines):
        await BudgetLine(
            application=application_id,
            position=i,
            component=component,
            description=description,
            quantity=quantity,
            unit=unit,
            unit_cost=cost,
            total=quantity * cost,
        ).save()
    return sum(quantity * cost for _c, _d, quantity, _u, cost in lines)


async def insert_attachments(application_id: int, uploaded_by: int, kinds: tuple[str, ...] = DOCUMENT_KINDS) -> None:
    """Attachment rows (no file behind them: nothing here downloads them)."""
    from tkm.applications.tables import Attachment

    for kind in kinds:
        await Attachment(
            application=application_id,
            kind=kind,
            filename=f"{kind}.pdf",
            content_type="application/pdf",
            size=1000,
            sha256="0" * 64,
            storage_key=secrets.token_hex(20),
            uploaded_by=uploaded_by,
            uploaded_at=_now(),
        ).save()


async def add_history(
    application_id: int,
    seq: int,
    action: str,
    from_state: str,
    to_state: str,
    *,
    actor: int | None,
    actor_name: str = "",
    actor_role: str = "",
    at: dt.datetime | None = None,
    notes: str = "",
    body: dict[str, Any] | None = None,
) -> None:
    """One transition in the application's history (the only place here that writes history rows)."""
    from tkm.workflow.history import row_hash
    from tkm.workflow.tables import HistoryEvent

    row = {
        "record_kind": "application",
        "record_id": application_id,
        "seq": seq,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor": actor,
        "actor_name": actor_name,
        "actor_role": actor_role,
        "at": at or _now(),
        "notes": notes,
        "body": body or {},
    }
    await HistoryEvent(**{**row, "body": json.dumps(row["body"]), "hash": row_hash(row)}).save()


async def seed_application(
    programme_id: int,
    applicant_id: int,
    *,
    status: str = "draft",
    group_name: str = "Kelompok Usaha Jahit Maju Bersama",
    region: str = "13.71",
    members: int = 6,
    training_centre: int | None = None,
    budget_lines: list[tuple[str, str, int, str, int]] = LETTER_BUDGET_LINES,
    approved_budget: dict[str, int] = LETTER_APPROVED,
    actor_name: str = "",
) -> dict[str, int]:
    """A group and its application for letters, with budget lines, attachments and the history up to ``status``
    (``draft`` or ``approved``); returns ``{"application_id", "group_id"}``.

    An approved one carries the recommended and approved budget (``approved_budget``) and a score, as the
    workflow would have left them; its history is attributed to ``applicant_id``.
    """
    from tkm.core import db

    if status not in PATH_TO:
        raise ValueError(f"seed_application writes {sorted(PATH_TO)}, not {status!r}")
    now = _now()
    async with db.transaction():
        group_id = await insert_group(
            applicant_id, region, group_name, members=members, training_centre=training_centre
        )
        columns: dict[str, Any] = {
            "business_plan": {"summary": "Produksi masker kain", "market": "Pasar Raya Padang", "workers": members},
            "requested_total": sum(q * c for _comp, _d, q, _u, c in budget_lines),
        }
        if status == "approved":
            columns |= {
                "recommended_budget": approved_budget,
                "approved_budget": approved_budget,
                "approved_total": sum(approved_budget.values()),
                "scores": LETTER_SCORES,
                "score": 84,
                "submitted_at": now,
                "approved_at": now,
            }
        application_id = await insert_application(
            programme_id, group_id, applicant_id, region, status=status, **columns
        )
        await insert_budget_lines(application_id, budget_lines)
        await insert_attachments(application_id, applicant_id)
        for seq, (action, src, dst) in enumerate(PATH_TO[status], start=1):
            role = {"submit": "applicant", "approve": "approver"}.get(action, "reviewer")
            await add_history(
                application_id,
                seq,
                action,
                src,
                dst,
                actor=applicant_id,
                actor_name=actor_name,
                actor_role=role,
                at=now,
            )
    return {"application_id": application_id, "group_id": group_id}
