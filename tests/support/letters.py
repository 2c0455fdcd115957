"""Applications for the documents tests, made without the (not yet written) applications API.

Users come from ``api.make_user``, the programme from ``POST /api/v1/programmes``;
groups, members, attachments, applications and budget lines are Piccolo rows;
transitions run through the real workflow engine (``engine.perform``).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader

from tests.support.api import Api

_counter = itertools.count(1)

#: capital 15.000.000 + wages 6.001.000 = 21.001.000 ("dua puluh satu juta seribu rupiah").
BUDGET_LINES = [
    ("capital", "Mesin jahit portabel", 5, "unit", 2_000_000),
    ("capital", "Kain katun dan karet", 100, "meter", 50_000),
    ("wages", "Upah penjahit dan pengemasan", 1, "paket", 6_001_000),
]
APPROVED = {"capital": 15_000_000, "wages": 6_001_000}
SCORES = {"business_feasibility": 5, "market": 4, "group_capacity": 4, "budget_fit": 4, "employment": 3}
MEMBER_NAMES = ["Siti Rahmawati", "Nurhayati", "Yusnidar", "Rina Marlina", "Dewi Sartika", "Ernawati"]
MEMBER_ROLES = ["ketua", "sekretaris", "bendahara", "anggota", "anggota", "anggota"]


def actor(user: dict[str, Any], regions: list[str] | None = None) -> Any:
    from tkm.auth.roles import CurrentUser

    return CurrentUser(user["id"], user["email"], user.get("name", user["email"]), user["role"], tuple(regions or ()))


def create_programme(api: Api, admin: dict[str, Any], regions: list[str] | None = None) -> dict[str, Any]:
    from tkm.programmes.services import today

    code = f"TKM-{next(_counter)}-{secrets.token_hex(2)}"
    body = {
        "code": code,
        "name": "TKM Pemula 2020",
        "workflow": "tkm-pemula",
        "fiscal_year": 2020,
        "budget_ceiling": 2_000_000_000,
        "max_per_group": 25_000_000,
        "min_members": 5,
        "max_members": 20,
        "regions": regions or ["13"],
        "opens_on": (today() - dt.timedelta(days=30)).isoformat(),
        "closes_on": (today() + dt.timedelta(days=30)).isoformat(),
        "components": {"capital": {"max": 15_000_000}, "wages": {"max": 7_000_000, "daily_wage_max": 150_000}},
    }
    response = api.client.post("/api/v1/programmes", json=body, headers=admin["headers"])
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Cast:
    """The people of one module's letters: an admin, reviewers and approvers for region 13, a finance officer."""

    admin: dict[str, Any]
    reviewer: dict[str, Any]
    approver: dict[str, Any]
    finance: dict[str, Any]
    programme: dict[str, Any]
    regions: list[str] = field(default_factory=lambda: ["13"])


def make_cast(api: Api) -> Cast:
    admin = api.make_user("admin")
    return Cast(
        admin=admin,
        reviewer=api.make_user("reviewer", ["13"]),
        approver=api.make_user("approver", ["13"]),
        finance=api.make_user("finance", ["13"]),
        programme=create_programme(api, admin),
    )


async def _insert_application(
    programme_id: int, applicant_id: int, group_name: str, region: str, members: int
) -> dict[str, int]:
    from tkm.applications.tables import Application, Attachment, BudgetLine
    from tkm.core import db
    from tkm.groups.tables import Group, Member

    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        group = Group(
            name=group_name,
            region=region,
            address="Jl. Khatib Sulaiman No. 12, Padang Utara",
            products=json.dumps(["masker", "sabun"]),
            bank_name="Bank Nagari",
            bank_account_number="2100123456789",
            bank_account_holder=group_name,
            owner=applicant_id,
            created_at=now,
            updated_at=now,
        )
        await group.save()
        for i in range(members):
            await Member(
                group_id=group.id,
                nik="".join(secrets.choice("0123456789") for _ in range(16)),
                name=MEMBER_NAMES[i % len(MEMBER_NAMES)] + ("" if i < len(MEMBER_NAMES) else f" {i}"),
                role=MEMBER_ROLES[i] if i < len(MEMBER_ROLES) else "anggota",
                gender="P",
                position=i,
            ).save()
        total = sum(q * c for _comp, _d, q, _u, c in BUDGET_LINES)
        app = Application(
            programme=programme_id,
            group_id=group.id,
            applicant=applicant_id,
            region=region,
            workflow="tkm-pemula",
            status="draft",
            version=1,
            business_plan=json.dumps({"summary": "Produksi masker kain", "market": "Pasar Raya Padang", "workers": 6}),
            requested_total=total,
            created_at=now,
            updated_at=now,
        )
        await app.save()
        for i, (component, description, quantity, unit, cost) in enumerate(BUDGET_LINES):
            await BudgetLine(
                application=app.id,
                position=i,
                component=component,
                description=description,
                quantity=quantity,
                unit=unit,
                unit_cost=cost,
                total=quantity * cost,
            ).save()
        for kind in ("proposal", "ktp", "sk_kelompok"):
            await Attachment(
                application=app.id,
                kind=kind,
                filename=f"{kind}.pdf",
                content_type="application/pdf",
                size=1000,
                sha256="0" * 64,
                storage_key=secrets.token_hex(20),
                uploaded_by=applicant_id,
                uploaded_at=now,
            ).save()
    return {"application_id": int(app.id), "group_id": int(group.id)}


@dataclass
class Grant:
    application_id: int
    group_id: int
    applicant: dict[str, Any]
    cast: Cast

    def perform(self, api: Api, action: str, who: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
        from tkm.workflow import engine

        regions = [] if who["role"] == "applicant" else self.cast.regions
        return api.call(engine.perform, self.application_id, action, actor(who, regions), body or {})

    def submit(self, api: Api) -> None:
        self.perform(api, "submit", self.applicant)

    def review(self, api: Api) -> None:
        self.perform(api, "start_review", self.cast.reviewer, {"no_conflict_of_interest": True})

    def recommend(self, api: Api) -> None:
        self.perform(
            api,
            "recommend",
            self.cast.reviewer,
            {"scores": SCORES, "recommended_budget": APPROVED, "notes": "Layak didanai."},
        )

    def approve(self, api: Api, notes: str = "Disetujui sesuai rekomendasi tim verifikasi.") -> None:
        self.perform(api, "approve", self.cast.approver, {"notes": notes})

    def to_recommended(self, api: Api) -> None:
        self.submit(api)
        self.review(api)
        self.recommend(api)


def make_grant(
    api: Api,
    cast: Cast,
    *,
    group_name: str = "Kelompok Usaha Jahit Maju Bersama",
    region: str = "13.71",
    members: int = 6,
) -> Grant:
    applicant = api.make_user("applicant", name="Siti Rahmawati")
    ids = api.call(_insert_application, cast.programme["id"], applicant["id"], group_name, region, members)
    return Grant(ids["application_id"], ids["group_id"], applicant, cast)


# --- documents ------------------------------------------------------------------------------------------------------


def documents(api: Api, application_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.client.get(f"/api/v1/applications/{application_id}/documents", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def document_of(api: Api, application_id: int, kind: str, headers: dict[str, str]) -> dict[str, Any]:
    found = [d for d in documents(api, application_id, headers) if d["kind"] == kind]
    assert len(found) == 1, found
    return found[0]


def render(api: Api, document_id: int) -> str:
    """What the worker does, run in the app's event loop (real WeasyPrint)."""
    from tkm.documents import services

    return api.call(services.render, document_id)


def download(api: Api, document_id: int, headers: dict[str, str]) -> bytes:
    response = api.client.get(f"/api/v1/documents/{document_id}/pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def pdf_text(content: bytes) -> str:
    """All text of a PDF, whitespace collapsed (line breaks in justified text become single spaces)."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


async def snapshot(document_id: int) -> dict[str, Any]:
    from tkm.documents.tables import Document

    row = await Document.select(Document.context).where(Document.id == document_id).first()
    return json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]


async def document_row(document_id: int) -> dict[str, Any]:
    from tkm.documents.tables import Document

    return await Document.select().where(Document.id == document_id).first()
