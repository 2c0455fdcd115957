"""Applications for the documents tests, made without the applications API.

Users come from ``api.make_user``, the programme from ``POST /api/v1/programmes``;
groups, members, attachments, applications and budget lines are rows written by
``tkm.testing.seeding``; transitions run through the real workflow engine (``engine.perform``).
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
from tkm.testing import seeding
from tkm.testing.builders import programme_body

_counter = itertools.count(1)

BUDGET_LINES = seeding.LETTER_BUDGET_LINES
APPROVED = seeding.LETTER_APPROVED
SCORES = seeding.LETTER_SCORES


def actor(user: dict[str, Any], regions: list[str] | None = None) -> Any:
    from tkm.auth.roles import CurrentUser

    return CurrentUser(user["id"], user["email"], user.get("name", user["email"]), user["role"], tuple(regions or ()))


def create_programme(api: Api, admin: dict[str, Any], regions: list[str] | None = None) -> dict[str, Any]:
    from tkm.programmes.services import today

    body = programme_body(
        code=f"TKM-{next(_counter)}-{secrets.token_hex(2)}",
        name="TKM Pemula 2020",
        budget_ceiling=2_000_000_000,
        regions=regions or ["13"],
        closes_on=(today() + dt.timedelta(days=30)).isoformat(),
        components={"capital": {"max": 15_000_000}, "wages": {"max": 7_000_000, "daily_wage_max": 150_000}},
    )
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
    ids = api.call(
        seeding.seed_application,
        cast.programme["id"],
        applicant["id"],
        group_name=group_name,
        region=region,
        members=members,
    )
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
