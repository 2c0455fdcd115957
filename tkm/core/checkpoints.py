"""Checkpoints: the chains' heads, signed with the ledger key, kept outside the database.

A checkpoint is a small JSON file written to the data store (``TKM_DATA_DIR/checkpoints/``) by a daily beat
task and by ``tkm verify --checkpoint``. It records, for each hash chain, the head's sequence number, hash
and ``keyed_from``, and for the history (whose rows are hashed one by one, not chained) the highest id, the
number of events up to it and the XOR of their keyed hashes. ``tkm verify`` compares the database with
every checkpoint, so rolling a chain back, cutting it short or rewriting it as if it were older than the
keys is seen even though each remaining link looks whole.

Files go through ``put`` / ``get`` / ``names`` only, so that moving them to object storage is one change.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tkm.core import db, hashchain
from tkm.core.settings import get_settings

#: The chains whose heads are checkpointed, and the table of their links.
CHAINS = {"audit": "audit_events", "ledger": "ledger_entries"}
HISTORY = "history"
SUFFIX = ".json"


# --- the store (one place that knows where files live) ------------------------------------------------------


def _folder() -> Path:
    return get_settings().data_dir / "checkpoints"


def put(name: str, data: bytes) -> None:
    """Write a checkpoint file whole (written aside, then renamed into place)."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / f".{name}.{os.getpid()}"
    draft.write_bytes(data)
    os.replace(draft, folder / name)


def get(name: str) -> bytes:
    return (_folder() / name).read_bytes()


def names() -> list[str]:
    """Checkpoint names, oldest first (names sort by time)."""
    folder = _folder()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))


# --- writing ----------------------------------------------------------------------------------------------------


def sign(body: dict[str, Any]) -> str:
    return hashchain.mac(hashchain.canonical(body))


async def history_summary(max_id: int | None = None, batch_size: int = 5000) -> dict[str, Any]:
    """Count and XOR of the keyed hashes of every history event up to ``max_id`` (default: the last)."""
    from tkm.workflow import history

    if max_id is None:
        async with db.transaction():
            if not db.is_sqlite():
                # Ids are taken before commit on PostgreSQL: wait for writers in flight, so that no event
                # below the bound commits after it is read (a share lock, held for one statement).
                await db.execute("LOCK TABLE history_events IN SHARE MODE")
            row = await db.fetch_one("SELECT COALESCE(MAX(id), 0) AS id FROM history_events")
        max_id = int(row["id"]) if row else 0
    count, acc, after = 0, 0, 0
    columns = ", ".join(("id", *history.FIELDS))
    while True:
        rows = await db.fetch(
            f"SELECT {columns} FROM history_events WHERE id > {{}} AND id <= {{}} ORDER BY id LIMIT {{}}",  # noqa: S608
            after,
            max_id,
            batch_size,
        )
        for r in rows:
            count += 1
            acc ^= int(history.row_hash(r), 16)
        if len(rows) < batch_size:
            break
        after = int(rows[-1]["id"])
    return {"max_id": max_id, "count": count, "digest": f"{acc:064x}"}


async def write(now: dt.datetime | None = None) -> dict[str, Any]:
    """Write a checkpoint of the chains as they are now; returns ``{"name", "signature", "body"}``."""
    now = now or dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {"at": now.astimezone(dt.UTC).isoformat(timespec="seconds"), "chains": {}}
    # No transaction: each part is checked on its own, and a long read must not hold SQLite's write lock.
    for chain in CHAINS:
        row = await db.fetch_one("SELECT seq, last_hash, keyed_from FROM chain_heads WHERE name = {}", chain)
        body["chains"][chain] = (
            {"seq": int(row["seq"]), "hash": row["last_hash"], "keyed_from": int(row["keyed_from"])}
            if row
            else {"seq": 0, "hash": hashchain.GENESIS, "keyed_from": 1}
        )
    body[HISTORY] = {**await history_summary(), "keyed_from": await history_keyed_from()}
    signature = sign(body)
    name = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%S%fZ") + SUFFIX
    put(name, json.dumps({"body": body, "signature": signature}, indent=1, sort_keys=True).encode())
    return {"name": name, "signature": signature, "body": body}


async def history_keyed_from() -> int:
    row = await db.fetch_one("SELECT keyed_from FROM chain_heads WHERE name = {}", HISTORY)
    return int(row["keyed_from"]) if row else 1


async def first() -> dict[str, Any] | None:
    """A checkpoint when the data store has none yet (``tkm migrate``): from the start, keyed_from is on file
    outside the database, so even a chain rewritten before the first daily checkpoint cannot be passed off
    as one of before keys."""
    return None if names() else await write()


def latest() -> dict[str, Any] | None:
    """The newest checkpoint whose signature holds, as ``{"hash", "at"}`` for letters (None if none)."""
    for name in reversed(names()):
        checkpoint = _load(name)
        if isinstance(checkpoint, Checkpoint):
            return {"hash": checkpoint.signature, "at": checkpoint.body["at"], "name": name}
    return None


# --- checking -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    name: str
    body: dict[str, Any]
    signature: str


@dataclass(frozen=True)
class Mismatch:
    """What a checkpoint finds wrong, naming the record (table and id) or the file."""

    text: str

    def __str__(self) -> str:
        return self.text


def _load(name: str) -> Checkpoint | Mismatch:
    try:
        data = json.loads(get(name))
        body, signature = data["body"], data["signature"]
        if not isinstance(body.get("chains"), dict) or not isinstance(body.get(HISTORY), dict):
            raise ValueError("a part is missing")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Mismatch(f"checkpoint {name} cannot be read")
    if not isinstance(signature, str) or not hmac.compare_digest(signature, sign(body)):
        return Mismatch(f"checkpoint {name}: the signature does not match (edited, or made with another key)")
    return Checkpoint(name, body, signature)


def load_all() -> tuple[list[Checkpoint], Mismatch | None]:
    """Every checkpoint that reads and is signed, and the first that is not."""
    found, bad = [], None
    for name in names():
        loaded = _load(name)
        if isinstance(loaded, Checkpoint):
            found.append(loaded)
        elif bad is None:
            bad = loaded
    return found, bad


async def verify() -> Mismatch | None:
    """The chains of the database against every checkpoint: one indexed look-up per checkpoint and chain.

    A chain whose link at a checkpoint's sequence number carries another hash was rewritten; a head behind a
    checkpoint was rolled back or cut; a ``keyed_from`` other than the checkpoint's passes links off as old
    ones. (The walk of each chain proves the links between; the history's check compares its checkpoints.)
    """
    found, bad = load_all()
    if bad:
        return bad
    heads = {
        r["name"]: r for r in await db.fetch("SELECT name, seq, last_hash, keyed_from FROM chain_heads WHERE true")
    }
    for cp in found:
        for chain, table in CHAINS.items():
            want = cp.body["chains"].get(chain) or {"seq": 0, "keyed_from": 1}
            head = heads.get(chain)
            seq, keyed_from = (int(head["seq"]), int(head["keyed_from"])) if head else (0, 1)
            if seq < want["seq"]:
                return Mismatch(
                    f"chain_heads record {chain}: has {seq} links, checkpoint {cp.name} recorded {want['seq']} "
                    "(the chain was cut or rolled back)"
                )
            if keyed_from != want["keyed_from"]:
                return Mismatch(
                    f"chain_heads record {chain}: keyed links begin at {keyed_from}, checkpoint {cp.name} "
                    f"recorded {want['keyed_from']} (links were passed off as unkeyed ones)"
                )
            if not want["seq"]:
                continue
            row = await db.fetch_one(f"SELECT id, hash FROM {table} WHERE seq = {{}}", want["seq"])  # noqa: S608
            if row is None:
                return Mismatch(f"{table}: the link with seq {want['seq']} of checkpoint {cp.name} is missing")
            if row["hash"] != want["hash"]:
                return Mismatch(
                    f"{table} record {row['id']} (seq {want['seq']}) differs from checkpoint {cp.name} "
                    "(the chain was rewritten)"
                )
    return None
