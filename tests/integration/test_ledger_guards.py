"""The database itself refuses to edit the ledger or to commit an unbalanced transaction (raw SQL, both engines)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from tests.support.api import Api
from tests.support.ledger_setup import actor, make_application, make_programme
from tkm.ledger import services

TABLES = ("ledger_accounts", "ledger_transactions", "ledger_entries")


@pytest.fixture(scope="module")
def posted(database, module_client):
    """A commitment and a payment, written through the services."""
    api = Api(module_client)
    admin, approver, finance = (
        api.make_user("admin"),
        api.make_user("approver", ["13"]),
        api.make_user("finance", ["13"]),
    )
    applicant = api.make_user("applicant")
    programme_id = make_programme(api, admin, ceiling=50_000_000)
    app = make_application(api, applicant, programme_id)
    api.call(services.commit_budget, app["id"], programme_id, {"capital": 10_000_000}, actor(approver))
    api.call(services.record_payment, app["id"], "capital", 4_000_000, "TRF-1", actor(finance))
    return app


def sqlite_path(database) -> str:
    return database.url.removeprefix("sqlite:///")


def pg(database, fn):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(database.url)
        try:
            return await fn(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def counts(database) -> dict[str, int]:
    if database.kind == "sqlite":
        with sqlite3.connect(sqlite_path(database)) as conn:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608

    async def load(conn):
        return {t: await conn.fetchval(f"SELECT COUNT(*) FROM {t}") for t in TABLES}  # noqa: S608

    return pg(database, load)


def refused(database, sql: str) -> str:
    """Run ``sql`` directly; return the database's refusal message (fails the test when it is accepted)."""
    if database.kind == "sqlite":
        conn = sqlite3.connect(sqlite_path(database))
        try:
            with pytest.raises(sqlite3.DatabaseError) as info:
                conn.execute(sql)
                conn.commit()
        finally:
            conn.close()
        return str(info.value)
    import asyncpg

    async def attempt(conn):
        with pytest.raises(asyncpg.PostgresError) as info:
            await conn.execute(sql)
        return str(info.value)

    return pg(database, attempt)


@pytest.mark.parametrize("table", TABLES)
def test_update_and_delete_are_refused_on_every_ledger_table(database, posted, table):
    before = counts(database)
    assert before[table] > 0
    column = {"ledger_accounts": "code", "ledger_transactions": "reference", "ledger_entries": "hash"}[table]
    assert "append-only" in refused(database, f"UPDATE {table} SET {column} = 'tampered'")  # noqa: S608
    assert "append-only" in refused(database, f"DELETE FROM {table}")  # noqa: S608
    if database.kind == "postgres":
        assert "append-only" in refused(database, f"TRUNCATE {table} CASCADE")
    assert counts(database) == before


def test_a_zero_amount_entry_is_refused(database, posted):
    before = counts(database)
    message = refused(
        database,
        "INSERT INTO ledger_entries (seq, txn, account, amount, application_id, prev_hash, hash) "
        "SELECT 999999999, txn, account, 0, application_id, 'x', 'y' FROM ledger_entries WHERE seq = 1",
    )
    assert "zero" in message or "amount_nonzero" in message
    assert counts(database) == before


# SQLite has no deferred constraints: there the services check balance and `tkm verify` re-checks it
# (test_ledger_verify covers that), so this one runs on PostgreSQL only.
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_an_unbalanced_transaction_is_refused_at_commit_on_postgres(database, posted):
    import asyncpg

    before = counts(database)
    now = dt.datetime.now(dt.UTC)

    async def insert(conn, amounts):
        async with conn.transaction():
            txn = await conn.fetchval(
                "INSERT INTO ledger_transactions (kind, application, programme, component, reference, memo, "
                "actor_id, actor, actor_name, at) VALUES ('payment', $1, $2, 'capital', 'SQL', '', NULL, "
                "'sql', 'sql', $3) RETURNING id",
                posted["id"],
                posted["programme_id"],
                now,
            )
            account = await conn.fetchval("SELECT account FROM ledger_entries ORDER BY seq LIMIT 1")
            for i, amount in enumerate(amounts):
                await conn.execute(
                    "INSERT INTO ledger_entries (seq, txn, account, amount, application_id, prev_hash, hash) "
                    "VALUES ($1, $2, $3, $4, $5, 'x', 'y')",
                    10**12 + txn * 10 + i,
                    txn,
                    account,
                    amount,
                    posted["id"],
                )
            # Each statement was accepted: the check waits for COMMIT (DEFERRABLE INITIALLY DEFERRED).

    cases = [
        ([7, -6], ("does not balance",)),
        ([10, -3, -6], ("does not balance",)),
        ([5_000_000], ("does not balance", "at least two")),  # either check may fire first
        ([], ("at least two",)),
    ]
    for amounts, reasons in cases:
        with pytest.raises(asyncpg.PostgresError) as info:
            pg(database, lambda conn, amounts=amounts: insert(conn, amounts))
        assert any(why in str(info.value) for why in reasons), (amounts, str(info.value))
        assert isinstance(info.value, asyncpg.CheckViolationError)
    assert counts(database) == before
