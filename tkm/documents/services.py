"""Documents: issue (number + frozen context + outbox row, in the caller's transaction), render, verify, download.

Lifecycle: ``issue`` allocates the register number, freezes the context and
creates a ``pending`` row and the outbox row of the render task, all in the
caller's transaction. The worker's ``render`` turns the snapshot into a PDF,
writes it atomically under ``TKM_DATA_DIR/documents``, stores its SHA-256 and
marks the row ``ready`` (``failed`` with the error while retries last). A
render that runs twice finds the row ready and does nothing; the number was
fixed at issue time. ``resend_stuck`` re-sends renders lost with a broker or
a worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import Any

import structlog

from tkm import regions
from tkm.applications import access
from tkm.applications.tables import Application
from tkm.auth.roles import CurrentUser
from tkm.core import audit, db, outbox
from tkm.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    NotYours,
    PayloadTooLarge,
    UnsupportedMediaType,
    invalid,
)
from tkm.core.i18n import _
from tkm.core.settings import get_settings
from tkm.documents import context, numbering, offices, renderer, signing
from tkm.documents.kinds import KINDS
from tkm.documents.schemas import ProgrammeReportIn
from tkm.documents.tables import VOID, Document, Rendering
from tkm.programmes.tables import Programme

log = structlog.get_logger(__name__)

RENDER_TASK = "tkm.documents.render"
SWEEP_TASK = "tkm.documents.sweep"
#: A pending document untouched this long lost its task (broker or worker gone): send it again.
STUCK_AFTER_SECONDS = 300
#: A failed document whose retries were lost is tried again after this long, up to MAX_RENDER_ATTEMPTS.
FAILED_RETRY_AFTER_SECONDS = 1800
MAX_RENDER_ATTEMPTS = 10
#: Temporary files of renders killed half-way are removed after this long.
STALE_TEMP_SECONDS = 3600
#: Crockford base32 (no I, L, O, U): 12 characters are 60 random bits, typed as XXXX-XXXX-XXXX.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_CODE_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")


# --- codes and shapes ---------------------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalize_code(code: str) -> str | None:
    """``abcd-efgh-jkmn`` → ``ABCDEFGHJKMN``; None when it cannot be a code."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper().translate(_CODE_READS_AS)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def verify_url(code: str) -> str:
    return f"{get_settings().base_url}/verify/{code}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def public_status(row: dict[str, Any]) -> str:
    """``void`` for a voided document, else where its rendering stands (pending | ready | failed)."""
    return VOID if row.get("voided_at") is not None else str(row["status"])


def _void_fields(row: dict[str, Any]) -> dict[str, Any]:
    voided = row.get("voided_at") is not None
    return {
        "void_reason": row["void_reason"] if voided else None,
        "voided_at": _iso(row["voided_at"]) if voided else None,
        "replaced_by": row["replaced_by"] if voided else None,
    }


def document_out(row: dict[str, Any]) -> dict[str, Any]:
    kind = KINDS.get(row["kind"])
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": kind.title if kind else row["kind"],
        "number": row["number"],
        "status": public_status(row),
        "rendering": row["status"],
        "sha256": row["sha256"] or None,
        "issued_at": _iso(row["issued_at"]),
        "verification_code": row["verification_code"],
        "verify_url": verify_url(row["verification_code"]),
        "application_id": row["application"],
        "office": row["office"],
        "size": int(row["size"] or 0),
        **_void_fields(row),
    }


OUT_COLUMNS = (
    Document.id,
    Document.kind,
    Document.number,
    Document.status,
    Document.sha256,
    Document.issued_at,
    Document.verification_code,
    Document.application,
    Document.office,
    Document.region,
    Document.size,
    Document.voided_at,
    Document.void_reason,
    Document.replaced_by,
)


# --- issuing ------------------------------------------------------------------------------------------------------


async def _issued(dedupe_key: str) -> int | None:
    row = await Document.select(Document.id).where(Document.dedupe_key == dedupe_key).first()
    return int(row["id"]) if row else None


def _subject(kind: str, part: dict[str, Any]) -> str:
    title = KINDS[kind].title
    if "group" in part:
        return f"{title}: {part['group']['name']} ({part['programme']['name']})"
    return f"{title}: {part['programme']['name']} — {part['scope']['name']}"


async def issue(
    kind: str,
    *,
    application_id: int | None = None,
    office: str | None = None,
    context_key: str = "",
    actor: CurrentUser | None = None,
    data: dict[str, Any] | None = None,
    region: str | None = None,
    dedupe_key: str | None = None,
    tranche: int | None = None,
) -> int:
    """Issue a document of ``kind`` inside the caller's ``db.transaction()``; returns its id.

    ``context_key`` names what the letter is about besides the application
    (``event:<id>``, ``tranche:<id>``); with the kind and the application it
    makes the dedupe key, so issuing the same thing twice returns the first
    document. ``data`` carries what other modules pass in (a tranche, a funds
    trail, a programme and region). The office is ``office`` (a code) or the one
    covering the application's region (or ``region``) most specifically. ``tranche`` is the tranche a
    payment letter is about (what voids it when the payment fails).
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown document kind {kind!r}")
    if not db.in_transaction():
        raise RuntimeError("documents.issue() must run inside db.transaction()")
    if spec.per_application and application_id is None:
        raise ValueError(f"{kind} is issued for an application")
    key = dedupe_key or f"{kind}:{application_id if application_id is not None else '-'}:{context_key}"
    existing = await _issued(key)
    if existing is not None:
        return existing
    if application_id is not None:
        app = await Application.select(Application.region).where(Application.id == application_id).first()
        if app is None:
            raise NotFound(_("Application %(id)s not found.", id=application_id))
        region = app["region"]
    region = region or ""
    office_row = await offices.office_for(region, office)
    # Refused before a number is taken: a letter nobody is set to sign is never issued.
    signer = offices.signatory(office_row, kind) if KINDS[kind].signed_by_office else None
    part = await context.build(kind, application_id=application_id, subject_key=context_key, data=data)

    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(context.JAKARTA)
    dated = context.dated_on(kind, part, data or {}, local.date())
    counter = await numbering.lock(office_row["code"], kind, dated.year)
    existing = await _issued(key)  # whoever held the counter before us may have issued this very document
    if existing is not None:
        return existing
    seq = await numbering.advance(counter)
    number = numbering.format_number(
        office_row["numbering_pattern"],
        seq=seq,
        kind_code=office_row["kind_codes"][kind],
        office=office_row["code"],
        on=dated,
    )
    code = new_code()
    stored = await offices.office_row(office_row["code"])
    snapshot = {
        "document": {
            "kind": kind,
            "title": spec.title,
            "subject": _subject(kind, part),
            "number": number,
            "issued_at": local.isoformat(timespec="seconds"),
            "issued_on": local.date().isoformat(),
            # The day the letter is dated: its event's (templates print this one).
            "dated_on": dated.isoformat(),
            "verification_code": code,
            "verify_url": verify_url(code),
            # Set by the signing step when the PDF carries a digital signature; the footer words itself on it.
            "signed": False,
        },
        "office": {
            **{k: office_row[k] for k in ("code", "name", "region", "letterhead", "address", "city", "legal_bases")},
            "contact": office_row["contact"],
            "contact_note": office_row["contact_note"],
            "logo": offices.logo_data_url(stored),
        },
        "signatory": signer,
        **part,
    }
    rows = await Document.insert(
        Document(
            application=application_id,
            kind=kind,
            office=office_row["code"],
            region=region,
            year=dated.year,
            seq=seq,
            number=number,
            status=Rendering.pending,
            verification_code=code,
            issued_at=now,
            issued_by=actor.id if actor else None,
            subject_key=context_key,
            dedupe_key=key,
            context=json.dumps(snapshot, ensure_ascii=False),
            sha256="",
            size=0,
            file_path="",
            attempts=0,
            error="",
            updated_at=now,
            tranche=tranche,
        )
    ).returning(Document.id)
    document_id = int(rows[0]["id"])
    await outbox.enqueue(RENDER_TASK, {"document_id": document_id})
    log.info("document.issued", document_id=document_id, kind=kind, number=number, application_id=application_id)
    return document_id


async def issue_payment_order(tranche: dict[str, Any], *, actor: CurrentUser | None = None, key: str = "") -> int:
    """An SPM for one tranche ``{"id","application_id","component","seq","amount","due_condition"}``.

    Runs in the caller's transaction. One per tranche; pass ``key`` (e.g. the request
    number) when a tranche that failed at the bank is ordered again: the new order replaces the void one.
    """
    document_id = await issue(
        "payment_order",
        application_id=int(tranche["application_id"]),
        context_key=f"tranche:{tranche['id']}{':' + key if key else ''}",
        actor=actor,
        data={"tranche": tranche},
        tranche=int(tranche["id"]),
    )
    await _replaces(int(tranche["id"]), "payment_order", document_id)
    return document_id


async def issue_handover_record(tranche: dict[str, Any], *, actor: CurrentUser | None = None, key: str = "") -> int:
    """A BAST for one paid tranche (also ``"paid_at"`` and ``"transfer_reference"``), in the caller's transaction.

    One per payment: a tranche paid again after a bank failure gets its own record, which replaces the void one;
    pass ``key`` (e.g. the tranche's version) so that a new payment with the same transfer reference or date
    is not taken for the refused one.
    """
    paid = f"tranche:{tranche['id']}:paid:{tranche.get('transfer_reference') or tranche['paid_at']}"
    document_id = await issue(
        "handover_record",
        application_id=int(tranche["application_id"]),
        context_key=f"{paid}{':' + key if key else ''}",
        actor=actor,
        data={"tranche": tranche},
        tranche=int(tranche["id"]),
    )
    await _replaces(int(tranche["id"]), "handover_record", document_id)
    return document_id


async def issue_tranche_letter(kind: str, tranche: dict[str, Any], *, actor: CurrentUser | None = None) -> int:
    """A payment request (SPP) or receipt (kuitansi) for one tranche, in the caller's transaction.

    One per tranche: a bank's refusal voids the payment order and handover record of that payment, not the
    request and the group's receipt for the same amount, so a tranche requested again keeps its first ones.
    """
    return await issue(
        kind,
        application_id=int(tranche["application_id"]),
        context_key=f"tranche:{tranche['id']}",
        actor=actor,
        data={"tranche": tranche},
        tranche=int(tranche["id"]),
    )


async def issue_collective_decree(
    approved: list[tuple[int, int]], *, actor: CurrentUser | None = None, region: str = ""
) -> dict[str, Any]:
    """One collective decree for the applications ``[(application_id, approval event id)]`` approved at once,
    then for each its extract (petikan) citing the decree's number and date, and its cooperation agreement.

    Runs in the caller's transaction (the one that approved them). Returns ``{"decree": id, "extracts":
    {application_id: id}, "agreements": {application_id: id}}``.
    """
    from tkm.documents import cycle

    if not db.in_transaction():
        raise RuntimeError("documents.issue_collective_decree() must run inside db.transaction()")
    ids = [application_id for application_id, _event in approved]
    listed = await cycle.collective_rows(ids)
    events = ",".join(str(event_id) for _app, event_id in approved)
    decree_id = await issue(
        "collective_decree",
        region=region,
        context_key=f"events:{hashlib.sha256(events.encode()).hexdigest()[:32]}",
        actor=actor,
        data={**listed, "region": region},
    )
    row = (
        await Document.select(Document.number, Document.issued_at, Document.verification_code)
        .where(Document.id == decree_id)
        .first()
    )
    collective = {
        "id": decree_id,
        "number": row["number"],
        "on": context.local_date(row["issued_at"]),
        "verification_code": row["verification_code"],
        "count": len(listed["rows"]),
        "total": sum(r["total"] for r in listed["rows"]),
    }
    extracts: dict[int, int] = {}
    agreements: dict[int, int] = {}
    for (application_id, event_id), listed_row in zip(approved, listed["rows"], strict=True):
        extracts[application_id] = await issue(
            "decree_extract",
            application_id=application_id,
            context_key=f"decree:{decree_id}",
            actor=actor,
            data={"collective": collective, "row": listed_row},
        )
        agreements[application_id] = await issue(
            "cooperation_agreement", application_id=application_id, context_key=f"event:{event_id}", actor=actor
        )
    return {"decree": decree_id, "extracts": extracts, "agreements": agreements}


#: The letters that rest on one payment of a tranche: void when the bank refuses it.
TRANCHE_LETTERS = ("payment_order", "handover_record")


async def _replaces(tranche_id: int, kind: str, document_id: int) -> None:
    """Point the tranche's void letters of ``kind`` that nothing replaces yet at ``document_id``."""
    await Document.update({Document.replaced_by: document_id, Document.updated_at: dt.datetime.now(dt.UTC)}).where(
        Document.tranche == tranche_id,
        Document.kind == kind,
        Document.voided_at.is_not_null(),
        Document.replaced_by.is_null(),
        Document.id != document_id,
    )


async def void_tranche_letters(tranche_id: int, reason: str, *, actor: CurrentUser | None = None) -> list[int]:
    """The bank refused a tranche's payment: its payment order and handover record become void.

    Runs in the caller's transaction. Letters of earlier payments are void already and keep their reason;
    the documents keep their numbers (the register stays gapless) and their files. Returns the ids voided.
    """
    if not db.in_transaction():
        raise RuntimeError("documents.void_tranche_letters() must run inside db.transaction()")
    now = dt.datetime.now(dt.UTC)
    rows = (
        await Document.update({Document.voided_at: now, Document.void_reason: reason, Document.updated_at: now})
        .where(
            Document.tranche == tranche_id,
            Document.kind.is_in(list(TRANCHE_LETTERS)),
            Document.voided_at.is_null(),
        )
        .returning(Document.id, Document.kind, Document.number)
    )
    for row in rows:
        await audit.record(
            "document.voided",
            actor_id=actor.id if actor else None,
            actor=actor.email if actor else "",
            object_type="document",
            object_id=row["id"],
            details={"kind": row["kind"], "number": row["number"], "tranche": tranche_id, "reason": reason},
        )
    voided = sorted(int(r["id"]) for r in rows)
    log.info("documents.voided", tranche_id=tranche_id, documents=voided)
    return voided


@dataclasses.dataclass(frozen=True)
class VoidBreak:
    """A payment letter that breaks the rules of voiding (``tkm verify``)."""

    document_id: int
    number: str
    problem: str

    def __str__(self) -> str:
        return f"document {self.document_id} ({self.number}): {self.problem}"


async def verify_void() -> VoidBreak | None:
    """The first payment letter that breaks the rules of voiding, or None.

    Only payment letters are voided, each with a reason; a tranche has at most one valid payment order and one
    valid handover record (those of its current payment); a replacement is a later letter of the same kind
    and tranche.
    """
    rows = await (
        Document.select(
            Document.id,
            Document.kind,
            Document.number,
            Document.tranche,
            Document.voided_at,
            Document.void_reason,
            Document.replaced_by,
        )
        .where(Document.voided_at.is_not_null() | Document.kind.is_in(list(TRANCHE_LETTERS)))
        .order_by(Document.id)
    )
    by_id = {int(r["id"]): r for r in rows}
    valid: dict[tuple[int, str], int] = {}
    for row in rows:
        document_id, void = int(row["id"]), row["voided_at"] is not None
        if void and (row["kind"] not in TRANCHE_LETTERS or row["tranche"] is None):
            return VoidBreak(document_id, row["number"], "void, but it is not the letter of a payment")
        if void and not row["void_reason"].strip():
            return VoidBreak(document_id, row["number"], "void without a reason")
        if row["replaced_by"] is not None:
            other = by_id.get(int(row["replaced_by"]))
            if not void or other is None or int(row["replaced_by"]) <= document_id:
                return VoidBreak(document_id, row["number"], f"replaced by document {row['replaced_by']}, wrongly")
            if (other["kind"], other["tranche"]) != (row["kind"], row["tranche"]):
                return VoidBreak(document_id, row["number"], "replaced by a letter of another kind or tranche")
        if not void and row["tranche"] is not None:
            earlier = valid.setdefault((int(row["tranche"]), row["kind"]), document_id)
            if earlier != document_id:
                return VoidBreak(
                    document_id, row["number"], f"a second valid {row['kind']} of tranche {row['tranche']}"
                )
    return None


async def tranche_letters(application_id: int) -> dict[int, list[dict[str, Any]]]:
    """The payment orders and handover records of an application's tranches, by tranche id, oldest first
    (access is the caller's job)."""
    rows = (
        await Document.select(*OUT_COLUMNS, Document.tranche)
        .where(
            Document.application == application_id,
            Document.kind.is_in(list(TRANCHE_LETTERS)),
            Document.tranche.is_not_null(),
        )
        .order_by(Document.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        letter = document_out(row)
        letter["url"] = f"/api/v1/documents/{row['id']}/pdf" if row["status"] == Rendering.ready else None
        found.setdefault(int(row["tranche"]), []).append(letter)
    return found


#: Who may have a funds-trail letter numbered and signed (API.md, Roles: auditors are read-only).
FUNDS_TRAIL_ISSUERS = frozenset({"applicant", "reviewer", "approver", "finance"})


async def issue_funds_trail(application_id: int, trail: dict[str, Any], *, actor: CurrentUser | None = None) -> int:
    """The funds trail ``{"entries": [...], "totals": {...}}`` as a PDF, in the caller's transaction.

    The same trail (same entries and totals) gives the same document. Auditors (read-only) and
    administrators read the trail but do not issue numbered letters.
    """
    if actor is not None and actor.role not in FUNDS_TRAIL_ISSUERS:
        raise Forbidden(
            _(
                "Your role (%(role)s) reads the funds trail but may not issue letters; download CSV or XLSX.",
                role=actor.role,
            )
        )
    digest = hashlib.sha256(json.dumps(trail, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return await issue(
        "funds_trail", application_id=application_id, context_key=f"trail:{digest}", actor=actor, data=trail
    )


async def request_programme_report(actor: CurrentUser, data: ProgrammeReportIn) -> dict[str, Any]:
    """A programme summary for a region (finance for their regions; auditors for any), made in the background."""
    programme = await Programme.select(Programme.id, Programme.code).where(Programme.code == data.programme).first()
    if programme is None:
        raise invalid("programme", _("Unknown programme %(code)s.", code=data.programme))
    region = data.region.strip()
    if region and not regions.exists(region):
        raise invalid("region", _("Unknown region code %(code)s.", code=region))
    if not (actor.sees_everything or (region and actor.covers(region))):
        raise Forbidden(
            _("You may report only on your own regions (%(regions)s).", regions=", ".join(actor.regions) or "-")
        )
    async with db.transaction():
        document_id = await issue(
            "programme_summary",
            region=region,
            context_key=f"programme:{programme['code']}:{region or '*'}:{uuid.uuid4().hex}",
            actor=actor,
            data={"programme_id": programme["id"], "region": region},
        )
        await audit.record(
            "document.programme_report",
            actor_id=actor.id,
            actor=actor.email,
            object_type="document",
            object_id=document_id,
            details={"programme": programme["code"], "region": region},
        )
    return await _out(document_id)


# --- rendering ----------------------------------------------------------------------------------------------------


def _write_temp(final: Path, content: bytes) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _mark_failed(document_id: int, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    await Document.update(
        {Document.status: Rendering.failed, Document.error: message, Document.updated_at: dt.datetime.now(dt.UTC)}
    ).where(Document.id == document_id, Document.status != Rendering.ready)
    log.warning("document.render_failed", document_id=document_id, error=message)


async def render(document_id: int) -> str:
    """Make the PDF of a document once: ``rendered``, ``already-ready`` or ``missing``. Raises on failure."""
    row = await (
        Document.select(Document.kind, Document.status, Document.year, Document.context)
        .where(Document.id == document_id)
        .first()
    )
    if row is None:
        return "missing"
    if row["status"] == Rendering.ready:
        return "already-ready"
    now = dt.datetime.now(dt.UTC)
    await Document.update(
        {Document.attempts: Document.attempts + 1, Document.render_started_at: now, Document.updated_at: now}
    ).where(Document.id == document_id, Document.status != Rendering.ready)
    snapshot = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
    relative = Path("documents") / str(row["year"]) / f"{document_id}.pdf"
    final = get_settings().data_dir / relative
    office = signing.SigningOffice(snapshot["office"]["code"], snapshot["office"]["name"])
    try:
        signer = signing.get_signer()
        # Render-time flags, not frozen in the context: whether the letter is signed, and with a development key.
        flags = {"signed": True, "development_signature": signer.development(office)}
        unsigned = renderer.get_renderer().render(row["kind"], {**snapshot, **flags})
        # Signed as an incremental update after the PDF/A output; pyHanko runs its own event loop, so in a thread.
        pdf = await asyncio.to_thread(signer.sign, unsigned, office)
        temp = _write_temp(final, pdf)
    except Exception as exc:
        await _mark_failed(document_id, exc)
        raise
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        async with db.transaction():
            current = await db.for_update(Document.select(Document.status).where(Document.id == document_id)).first()
            if current is None or current["status"] == Rendering.ready:
                return "already-ready"  # another delivery of this task finished first; its file stands
            os.replace(temp, final)
            _fsync_dir(final.parent)
            done = dt.datetime.now(dt.UTC)
            await Document.update(
                {
                    Document.status: Rendering.ready,
                    Document.sha256: digest,
                    Document.size: len(pdf),
                    Document.file_path: str(relative),
                    Document.error: "",
                    Document.rendered_at: done,
                    Document.updated_at: done,
                }
            ).where(Document.id == document_id)
    finally:
        temp.unlink(missing_ok=True)
    log.info("document.rendered", document_id=document_id, sha256=digest, size=len(pdf))
    return "rendered"


def _remove_stale_temp_files(root: Path, older_than: float) -> int:
    removed = 0
    if not root.is_dir():
        return 0
    cutoff = dt.datetime.now().timestamp() - older_than
    for path in root.glob("*/.*.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


async def resend_stuck(
    stuck_after: float = STUCK_AFTER_SECONDS, failed_after: float = FAILED_RETRY_AFTER_SECONDS, limit: int = 200
) -> int:
    """Send the render task again for documents whose task was lost; returns how many were sent."""
    now = dt.datetime.now(dt.UTC)
    pending_cutoff = now - dt.timedelta(seconds=stuck_after)
    failed_cutoff = now - dt.timedelta(seconds=failed_after)
    stuck = (Document.status == Rendering.pending) & (Document.updated_at <= pending_cutoff)
    retry = (Document.status == Rendering.failed) & (Document.updated_at <= failed_cutoff)
    rows = await (
        Document.select(Document.id, Document.status, Document.attempts)
        .where(stuck | retry)
        .order_by(Document.id)
        .limit(limit)
    )
    resend = [int(r["id"]) for r in rows if r["attempts"] < MAX_RENDER_ATTEMPTS]
    give_up = [int(r["id"]) for r in rows if r["attempts"] >= MAX_RENDER_ATTEMPTS and r["status"] == Rendering.pending]
    _remove_stale_temp_files(get_settings().data_dir / "documents", STALE_TEMP_SECONDS)
    if not (resend or give_up):
        return 0
    async with db.transaction():
        for document_id in resend:
            await outbox.enqueue(RENDER_TASK, {"document_id": document_id})
        if resend:
            await Document.update({Document.updated_at: now}).where(
                Document.id.is_in(resend), Document.status != Rendering.ready
            )
        if give_up:
            await Document.update(
                {
                    Document.status: Rendering.failed,
                    Document.error: f"the render did not finish in {MAX_RENDER_ATTEMPTS} attempts",
                    Document.updated_at: now,
                }
            ).where(Document.id.is_in(give_up), Document.status == Rendering.pending)
    log.info("documents.resent", resent=resend, gave_up=give_up)
    return len(resend)


# --- reading, downloading, verifying ------------------------------------------------------------------------------


async def _out(document_id: int) -> dict[str, Any]:
    row = await Document.select(*OUT_COLUMNS).where(Document.id == document_id).first()
    if row is None:
        raise NotFound(_("Document %(id)s not found.", id=document_id))
    return document_out(row)


async def list_for_application(application_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    await access.load(application_id, actor)
    rows = await Document.select(*OUT_COLUMNS).where(Document.application == application_id).order_by(Document.id)
    return [document_out(r) for r in rows]


async def _visible(document_id: int, actor: CurrentUser) -> dict[str, Any]:
    """The document row if ``actor`` may see it: the application's access rules, or the report's region."""
    row = await Document.select(*OUT_COLUMNS, Document.file_path).where(Document.id == document_id).first()
    if row is None:
        raise NotFound(_("Document %(id)s not found.", id=document_id))
    if row["application"] is not None:
        try:
            await access.load(int(row["application"]), actor)
        except NotYours:
            raise NotYours(_("Document %(id)s not found.", id=document_id)) from None
    elif not (actor.sees_everything or (actor.is_staff and row["region"] and actor.covers(row["region"]))):
        raise NotYours(_("Document %(id)s not found.", id=document_id))
    return row


async def get_document(document_id: int, actor: CurrentUser) -> dict[str, Any]:
    return document_out(await _visible(document_id, actor))


def download_name(row: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{row['kind']}-{row['number']}").strip("-") + ".pdf"


async def pdf(document_id: int, actor: CurrentUser) -> tuple[bytes, dict[str, Any]]:
    """The PDF bytes and the document; 409 while it is being made (or its file does not match its hash)."""
    row = await _visible(document_id, actor)
    if row["status"] != Rendering.ready:
        raise Conflict(
            _("The document is not ready yet (%(status)s); try again in a moment.", status=row["status"]),
            extra={"status": row["status"]},
            headers={"Retry-After": "5"},
        )
    path = get_settings().data_dir / row["file_path"]
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        content = b""
    if not hmac.compare_digest(hashlib.sha256(content).hexdigest(), row["sha256"]):
        log.error("document.file_mismatch", document_id=document_id, path=str(path))
        raise Conflict(_("The stored file of this document does not match its fingerprint; staff have been told."))
    return content, document_out(row)


async def verification(code: str) -> dict[str, Any]:
    """What the public may know about a document from its code: kind, number, date, office, status, hash."""
    normalized = normalize_code(code)
    row = None
    if normalized:
        row = await (
            Document.select(
                Document.kind,
                Document.number,
                Document.status,
                Document.sha256,
                Document.issued_at,
                Document.verification_code,
                Document.context,
                Document.voided_at,
                Document.void_reason,
                Document.replaced_by,
            )
            .where(Document.verification_code == normalized)
            .first()
        )
    if row is None:
        raise NotFound(_("No document has the verification code %(code)s.", code=code[:40]))
    snapshot = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
    kind = KINDS[row["kind"]]
    replacement = None
    if row["voided_at"] is not None and row["replaced_by"] is not None:
        other = await (
            Document.select(Document.number, Document.verification_code)
            .where(Document.id == row["replaced_by"])
            .first()
        )
        if other is not None:
            replacement = {
                "number": other["number"],
                "verification_code": renderer.code_groups(other["verification_code"]),
                "verify_url": verify_url(other["verification_code"]),
            }
    return {
        "verification_code": renderer.code_groups(row["verification_code"]),
        "kind": row["kind"],
        "kind_label": _(kind.label),
        "title": kind.title,
        "number": row["number"],
        "issued_at": _iso(row["issued_at"]),
        "issued_on": snapshot["document"]["issued_on"],
        "office": snapshot["office"]["name"],
        "status": public_status(row),
        "sha256": row["sha256"] or None,
        **_void_fields(row),
        "voided_on": row["voided_at"].astimezone(context.JAKARTA).date().isoformat() if row["voided_at"] else None,
        "replacement": replacement,
    }


async def check_file(code: str, *, content: bytes | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Does a file (or its SHA-256) match the document with this code?"""
    info = await verification(code)
    if content is not None:
        digest = hashlib.sha256(content).hexdigest()
    else:
        digest = (sha256 or "").strip().lower()
        if not SHA256_RE.match(digest):
            raise invalid("sha256", _("Give the SHA-256 of the file as 64 hexadecimal characters."))
    matches = bool(info["sha256"]) and hmac.compare_digest(digest, info["sha256"])
    return {**info, "checked_sha256": digest, "matches": matches}


#: A PDF starts with this within its first kilobyte (some writers put bytes before it).
PDF_MAGIC = b"%PDF-"


def _check_upload(content: bytes) -> None:
    """A file to verify: not empty, not too large, a PDF by its content."""
    limit = get_settings().max_upload_bytes
    if not content:
        raise invalid("file", _("The file is empty."))
    if len(content) > limit:
        raise PayloadTooLarge(
            _("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)),
            errors=[FieldError("file", _("The file is too large."))],
        )
    if PDF_MAGIC not in content[:1024]:
        raise UnsupportedMediaType(
            _("Only PDF files can be verified."), errors=[FieldError("file", _("Not a PDF file."))]
        )


async def verify_document(code: str, *, content: bytes | None = None) -> dict[str, Any]:
    """Verify the stored file (``content`` None) or an uploaded one against the document with this code.

    ``matches``: the file's SHA-256 is the one in the register. ``signature``: the file's PAdES signature checked
    offline against the issuing office's certificates, as of when TKM signed it. A void document reports
    ``status`` void whatever its file.
    """
    if content is not None:
        _check_upload(content)
    info = await verification(code)
    normalized = normalize_code(code)
    row = await (
        Document.select(Document.office, Document.status, Document.file_path, Document.rendered_at, Document.context)
        .where(Document.verification_code == normalized)
        .first()
    )
    assert row is not None  # verification() found it
    if content is None:
        if row["status"] != Rendering.ready:
            return {**info, "checked_sha256": None, "matches": None, "signature": None}
        try:
            content = (get_settings().data_dir / row["file_path"]).read_bytes()
        except FileNotFoundError:
            content = b""
    digest = hashlib.sha256(content).hexdigest()
    matches = bool(info["sha256"]) and hmac.compare_digest(digest, info["sha256"])
    snapshot = json.loads(row["context"]) if isinstance(row["context"], str) else row["context"]
    office = signing.SigningOffice(row["office"], snapshot["office"]["name"])
    checked = await signing.check_signature(content, office, moment=row["rendered_at"])
    if not checked.valid:
        log.info("document.signature_invalid", code=normalized, problem=checked.problem, matches=matches)
    return {**info, "checked_sha256": digest, "matches": matches, "signature": checked.out()}
