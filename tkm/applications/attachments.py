"""Attachments: PDF, JPEG or PNG recognised by their content, 10 MB at most, stored under random names."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import filetype

from tkm.applications import access
from tkm.applications.kinds import KINDS, label
from tkm.applications.tables import Attachment
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db, uploads
from tkm.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    NotYours,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationProblem,
)
from tkm.core.i18n import _
from tkm.core.settings import get_settings

ALLOWED_TYPES = uploads.EXTENSIONS


def kinds_allowed(row: dict[str, Any]) -> tuple[str, ...]:
    """What the applicant may add now: the workflow file lists it per state (``uploads``)."""
    from tkm.workflow import loader

    return loader.get(row["workflow"]).states[row["status"]].uploads


def _not_now(kind: str, row: dict[str, Any]) -> Conflict:
    from tkm.workflow import loader

    state = str(loader.get(row["workflow"]).states[row["status"]].label)
    return Conflict(
        _("%(kind)s cannot be added while the application is %(state)s.", kind=label(kind), state=state),
        errors=[FieldError("kind", _("Not at this stage."))],
    )


CHUNK = 1024 * 1024
#: Sent with every attachment, downloaded or shown in the page: whatever slipped through cannot run script,
#: load anything or be read as another type.
VIEW_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff"}


def storage_dir() -> Path:
    path = get_settings().data_dir / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _copy_limited(source: BinaryIO, limit: int) -> tuple[Path, int, str, bytes]:
    """Copy an upload to a temporary file, refusing it past ``limit`` bytes; returns path, size, sha256, head."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp = tempfile.mkstemp(dir=storage_dir(), prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(_("Files may be at most %(mb)d MB.", mb=limit // (1024 * 1024)))
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), size, digest.hexdigest(), head


async def upload(
    application_id: int, actor: CurrentUser, kind: str, filename: str | None, source: BinaryIO
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValidationProblem([FieldError("kind", _("Use one of: %(kinds)s.", kinds=", ".join(KINDS)))])
    row = await access.load(application_id, actor)
    if actor.role != Role.applicant:
        raise Forbidden(_("Only the applicant adds attachments."))
    if kind not in kinds_allowed(row):
        raise _not_now(kind, row)
    limit = get_settings().max_upload_bytes
    tmp, size, uploaded_sha256, head = await anyio.to_thread.run_sync(_copy_limited, source, limit)
    final: Path | None = None
    checked: uploads.Checked | None = None
    try:
        if size == 0:
            raise ValidationProblem([FieldError("file", _("The file is empty."))])
        guessed = filetype.guess(head)
        content_type = guessed.mime if guessed else None
        if content_type not in ALLOWED_TYPES:
            raise UnsupportedMediaType(
                _(
                    "Only PDF, JPEG and PNG files are accepted (this file looks like %(kind)s).",
                    kind=content_type or _("an unknown type"),
                ),
                errors=[FieldError("file", _("Not a PDF, JPEG or PNG file."))],
            )
        # Active content, polyglots, image re-encoding (what is stored is what was checked).
        checked = await anyio.to_thread.run_sync(uploads.check, tmp, content_type, head)
        size, sha256 = checked.size, checked.sha256
        key = secrets.token_hex(20) + ALLOWED_TYPES[content_type]
        final = storage_dir() / key
        os.replace(checked.path, final)
    except BaseException:
        if final is None and checked is not None and checked.path != tmp:
            checked.path.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    assert final is not None and checked is not None
    now = dt.datetime.now(dt.UTC)
    try:
        async with db.transaction():
            # Re-read under the lock: the state may have moved on while the file was being copied.
            current = await access.load(application_id, actor, lock=True)
            if kind not in kinds_allowed(current):
                raise _not_now(kind, current)
            rows = await Attachment.insert(
                Attachment(
                    application=application_id,
                    kind=kind,
                    filename=uploads.stored_name(filename, content_type),
                    content_type=content_type,
                    size=size,
                    sha256=sha256,
                    storage_key=key,
                    uploaded_by=actor.id,
                    uploaded_at=now,
                    photo=json.dumps(checked.metadata) if checked.metadata else None,
                )
            ).returning(Attachment.id)
            await audit.record(
                "attachment.added",
                actor_id=actor.id,
                actor=actor.email,
                object_type="application",
                object_id=application_id,
                details={"kind": kind, "sha256": sha256, "size": size, "uploaded_sha256": uploaded_sha256},
            )
    except BaseException:
        final.unlink(missing_ok=True)  # nothing in the database points at it
        raise
    row = await Attachment.select().where(Attachment.id == rows[0]["id"]).first()
    from tkm.applications.services import attachment_out

    return attachment_out(row)


async def open_for_download(attachment_id: int, actor: CurrentUser) -> tuple[Path, dict[str, Any]]:
    row = await Attachment.select().where(Attachment.id == attachment_id).first()
    if row is None:
        raise NotFound(_("Attachment %(id)s not found.", id=attachment_id))
    try:
        await access.load(int(row["application"]), actor)
    except NotFound:
        raise NotYours(_("Attachment %(id)s not found.", id=attachment_id)) from None
    path = storage_dir() / row["storage_key"]
    if not path.is_file():
        raise NotFound(_("The file of attachment %(id)s is missing.", id=attachment_id))
    return path, row


async def photo_metadata(attachment_id: int) -> dict[str, Any] | None:
    """Where and when a photo was taken (``{"gps": {"latitude", "longitude", "altitude"?}, "taken_at"}``),
    kept from its EXIF at upload; None for PDFs and for images that carried neither."""
    row = await Attachment.select(Attachment.photo).where(Attachment.id == attachment_id).first()
    if row is None or not row["photo"]:
        return None
    value = row["photo"]
    return json.loads(value) if isinstance(value, str) else value
