"""The database engine and the one-transaction-per-command helper.

SQLite (embedded default): WAL journal, a busy timeout, write transactions
opened IMMEDIATE so concurrent writers queue instead of failing with
"database is locked". PostgreSQL: a connection pool opened in the web app's
lifespan (or per worker process), row locks with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.base import Query
from piccolo.querystring import QueryString

from tkm.core.settings import Settings, get_settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30

_engine: Engine | None = None
_after_commit: contextvars.ContextVar[list[Callable[[], Awaitable[None]]] | None] = contextvars.ContextVar(
    "tkm_after_commit", default=None
)


def make_engine(settings: Settings) -> Engine:
    if settings.database_kind == "postgres":
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def prepare_sqlite(path: str) -> None:
    """WAL lets readers run beside the single writer; the setting persists in the file."""
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def configure(settings: Settings | None = None) -> Engine:
    """Build the engine for these settings and bind every table to it."""
    global _engine
    settings = settings or get_settings()
    engine = make_engine(settings)
    if isinstance(engine, SQLiteEngine):
        prepare_sqlite(engine.path)
    _engine = engine
    from tkm import piccolo_conf  # late: piccolo_conf imports every domain's tables

    piccolo_conf.DB = engine
    for table in piccolo_conf.all_tables():
        table._meta.db = engine
    return engine


def get_engine() -> Engine:
    if _engine is None:
        return configure()
    return _engine


def is_sqlite() -> bool:
    return isinstance(get_engine(), SQLiteEngine)


async def open_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=20)


async def close_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


def in_transaction() -> bool:
    return get_engine().current_transaction.get() is not None


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once the current transaction has committed (never on rollback)."""
    hooks = _after_commit.get()
    if hooks is None:
        raise RuntimeError("after_commit() needs an open transaction()")
    hooks.append(callback)


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One command, one transaction. Nested calls join the outer transaction."""
    engine = get_engine()
    if engine.current_transaction.get() is not None:
        yield
        return
    hooks: list[Callable[[], Awaitable[None]]] = []
    token = _after_commit.set(hooks)
    try:
        if isinstance(engine, SQLiteEngine):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with _postgres_transaction(engine):
                yield
    finally:
        _after_commit.reset(token)
    for hook in hooks:
        await hook()


@asynccontextmanager
async def _postgres_transaction(engine: Engine) -> AsyncIterator[None]:
    """``engine.transaction()``, except that a COMMIT that fails still gives the connection back.

    A COMMIT can fail on PostgreSQL (a deferred constraint trigger, e.g. the ledger's balance check, or a
    serialization failure). Piccolo 1.38's ``__aexit__`` then raises before releasing the connection to the
    pool and resetting ``current_transaction``, so the pool leaks a connection on every such failure.
    """
    txn: Any = engine.transaction()
    await txn.__aenter__()
    try:
        yield
    except BaseException as exc:
        await txn.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    try:
        await txn.commit()
    except BaseException as exc:
        txn._rolled_back = True  # the server ended the transaction when COMMIT failed; release, do not roll back
        await txn.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    await txn.__aexit__(None, None, None)


def for_update(query: Query) -> Query:
    """Lock the selected rows on PostgreSQL; SQLite's IMMEDIATE transaction already serialises writers.

    NO KEY UPDATE rather than UPDATE: inserting a row that references a locked row (a history event,
    a tranche, a ledger entry) takes a KEY SHARE lock on it, which plain FOR UPDATE blocks and which
    deadlocked concurrent commands. We never change or delete the key of a row we lock.
    """
    if is_sqlite():
        return query
    return query.lock_rows("NO KEY UPDATE")  # type: ignore[attr-defined]


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with ``{}`` placeholders, run inside the current transaction when there is one."""
    return await get_engine().run_querystring(QueryString(sql, *args)) or []


async def fetch_one(sql: str, *args: Any) -> dict[str, Any] | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def execute(sql: str, *args: Any) -> None:
    await get_engine().run_querystring(QueryString(sql, *args))


async def ping() -> bool:
    row = await fetch_one("SELECT 1 AS ok")
    return bool(row and row["ok"] == 1)


def ilike(column: Any, pattern: str) -> Any:
    """Case-insensitive LIKE: ILIKE on PostgreSQL; SQLite's LIKE already ignores ASCII case."""
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)
