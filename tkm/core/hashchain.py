"""Hash chains: each record carries the hash of the one before it.

A chain is named (``audit``, ``ledger``, ...); its head row holds the last
sequence number and hash and is locked while a link is added, so links are
strictly ordered even with concurrent writers. ``digest`` is the one place
that decides how a record's fields become bytes: writers and ``tkm verify``
both use it.

Links are HMAC-SHA256 with ``TKM_LEDGER_KEY``, a secret kept outside the database, so someone who can
write the database but lacks the key cannot recompute a chain after changing a record. Chains begun
before links were keyed keep their plain SHA-256 links: the head's ``keyed_from`` is the first keyed
sequence number (set once by the migration that introduced keys; 1 for chains begun since). The old
links stay covered because the first keyed link hashes the last old one, and checkpoints
(``tkm.core.checkpoints``) record ``keyed_from``, so moving it to pass off rewritten links as old is seen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tkm.core import db
from tkm.core.settings import get_settings
from tkm.core.tables import ChainHead

GENESIS = "0" * 64
#: The table each chain's links live in, to name a broken record.
TABLES = {"audit": "audit_events", "ledger": "ledger_entries"}


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(_normalise(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mac(data: bytes) -> str:
    """HMAC-SHA256 of ``data`` with the ledger key (hex)."""
    return hmac.new(get_settings().ledger_key.encode(), data, hashlib.sha256).hexdigest()


def digest(prev_hash: str, fields: dict[str, Any], *, keyed: bool = True) -> str:
    data = prev_hash.encode() + b"\n" + canonical(fields)
    # keyed=False only to check links written before chains were keyed.
    return mac(data) if keyed else hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str


async def append(chain: str, fields: dict[str, Any]) -> Link:
    """Reserve the next link of ``chain`` for a record with ``fields``. Needs an open transaction."""
    if not db.in_transaction():
        raise RuntimeError("hashchain.append() must run inside db.transaction()")
    await db.execute(
        "INSERT INTO chain_heads (name, seq, last_hash, keyed_from) VALUES ({}, 0, {}, 1) "
        "ON CONFLICT (name) DO NOTHING",
        chain,
        GENESIS,
    )
    head = await db.for_update(
        ChainHead.select(ChainHead.seq, ChainHead.last_hash).where(ChainHead.name == chain)
    ).first()
    assert head is not None
    seq = int(head["seq"]) + 1
    prev = head["last_hash"] or GENESIS
    new_hash = digest(prev, {**fields, "seq": seq})
    await ChainHead.update({ChainHead.seq: seq, ChainHead.last_hash: new_hash}).where(ChainHead.name == chain)
    return Link(seq=seq, prev_hash=prev, hash=new_hash)


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    seq: int
    record_id: Any
    reason: str
    table: str = ""

    def __str__(self) -> str:
        table = self.table or TABLES.get(self.chain, self.chain)
        return f"{table} record {self.record_id} (seq {self.seq}) {self.reason}"


class ChainVerifier:
    """Feed records in sequence order; ``broken`` holds the first break found."""

    def __init__(self, chain: str, keyed_from: int = 1) -> None:
        self.chain = chain
        self.keyed_from = keyed_from
        self.prev = GENESIS
        self.seq = 0
        self.last_id: Any = None
        self.broken: ChainBreak | None = None

    def feed(self, record_id: Any, seq: int, prev_hash: str, stored_hash: str, fields: dict[str, Any]) -> bool:
        if self.broken:
            return False
        expected = self.seq + 1
        if seq != expected:
            reason = f"has sequence {seq}, expected {expected} (a record is missing)"
        elif prev_hash != self.prev:
            reason = "does not point to the hash of the record before it"
        elif digest(self.prev, {**fields, "seq": seq}, keyed=seq >= self.keyed_from) != stored_hash:
            reason = "was changed after it was written (hash mismatch)"
        else:
            self.prev, self.seq, self.last_id = stored_hash, seq, record_id
            return True
        self.broken = ChainBreak(self.chain, seq, record_id, reason)
        return False

    async def finish(self) -> ChainBreak | None:
        """Also compare with the chain head, which catches records cut off the end."""
        if self.broken:
            return self.broken
        seq, last = await head_of(self.chain)
        if seq != self.seq or (seq and last != self.prev):
            self.broken = ChainBreak(
                self.chain, seq, self.last_id, f"is the last record found, but the chain head records {seq} links"
            )
        return self.broken


async def verifier(chain: str) -> ChainVerifier:
    """A verifier that knows where the chain's keyed links begin."""
    row = await ChainHead.select(ChainHead.keyed_from).where(ChainHead.name == chain).first()
    return ChainVerifier(chain, int(row["keyed_from"]) if row else 1)


async def head_of(chain: str) -> tuple[int, str]:
    row = await ChainHead.select(ChainHead.seq, ChainHead.last_hash).where(ChainHead.name == chain).first()
    return (int(row["seq"]), row["last_hash"]) if row else (0, GENESIS)
