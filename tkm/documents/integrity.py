"""``tkm verify``: every stored file against the SHA-256 recorded for it.

Letters (``documents`` that are ready) and uploaded attachments: the file exists where the row says and its
bytes hash to the row's ``sha256``. Files are read in chunks, one at a time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tkm.core import db
from tkm.core.settings import get_settings

CHUNK = 1024 * 1024


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while block := fh.read(CHUNK):
                digest.update(block)
    except (FileNotFoundError, IsADirectoryError):
        return None
    return digest.hexdigest()


def _problem(table: str, row_id: int, path: Path, expected: str) -> str | None:
    actual = _sha256(path)
    if actual is None:
        return f"{table} record {row_id}: its file {path} is missing"
    if actual != expected:
        return f"{table} record {row_id}: its file {path} does not match its SHA-256 (changed since it was stored)"
    return None


async def verify(batch_size: int = 500) -> str | None:
    from tkm.applications.attachments import storage_dir
    from tkm.documents.tables import Rendering

    stored = (
        ("documents", "file_path", get_settings().data_dir, "status = {} AND ", (str(Rendering.ready),)),
        ("attachments", "storage_key", storage_dir(), "", ()),
    )
    for table, column, base, condition, args in stored:
        after = 0
        while True:
            rows = await db.fetch(
                f"SELECT id, {column} AS path, sha256 FROM {table} WHERE {condition}id > {{}} "  # noqa: S608
                "ORDER BY id LIMIT {}",
                *args,
                after,
                batch_size,
            )
            for r in rows:
                if problem := _problem(table, int(r["id"]), base / r["path"], r["sha256"]):
                    return problem
            if len(rows) < batch_size:
                break
            after = int(rows[-1]["id"])
    return None
