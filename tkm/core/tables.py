"""Tables shared by every domain: hash-chain heads, audit events, the outbox, idempotency keys."""

from piccolo.columns import JSON, BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class ChainHead(Table, tablename="chain_heads"):
    """The last link of each hash chain; locked while a new link is added."""

    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    seq = BigInt(default=0)
    last_hash = Varchar(length=64, default="")
    #: The first sequence number linked with the ledger key (HMAC); earlier links are plain SHA-256 ones
    #: of a database made before links were keyed. Also marks where keyed history events begin (``history``).
    keyed_from = BigInt(default=1)


class AuditEvent(Table, tablename="audit_events"):
    """Who did what to which object, when; hash-chained so `tkm verify` detects edits."""

    id = Serial(primary_key=True)
    seq = BigInt(unique=True)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=320, default="")
    action = Varchar(length=100, index=True)
    object_type = Varchar(length=50, default="")
    object_id = Varchar(length=100, default="")
    address = Varchar(length=100, default="")
    details = JSON(default="{}")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class OutboxMessage(Table, tablename="outbox"):
    """A task to send to the broker, written in the same transaction as the change that causes it."""

    id = Serial(primary_key=True)
    task = Varchar(length=200)
    payload = JSON(default="{}")
    dedupe_key = Varchar(length=200, null=True, default=None, unique=True)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(default="")


class IdempotencyRecord(Table, tablename="idempotency_keys"):
    """The first response to a money-moving call, replayed for a repeated Idempotency-Key."""

    id = Serial(primary_key=True)
    user_id = Integer()
    key = Varchar(length=200)
    scope = Varchar(length=300)
    request_hash = Varchar(length=64)
    status_code = Integer(default=0)
    response = JSON(default="null")
    created_at = Timestamptz()
    # (user_id, key) is unique: a raw index in the migration (Piccolo's Unique() breaks on SQLite).
