"""`tkm verify` walks the funds trail's hash chain and names the first entry edited behind the app's back."""

from __future__ import annotations

import asyncio
import importlib
import json
import sqlite3

import pytest

from tests.support.api import Api
from tests.support.ledger_setup import actor, make_application, make_programme
from tkm.core import db
from tkm.ledger import services
from tkm.testing import processes

COLUMNS = ("id", "seq", "txn", "account", "amount", "application_id", "prev_hash", "hash")
TRIGGERS = importlib.import_module("tkm.migrations.tkm_2026_12_01t16_23_54_000000")


@pytest.fixture(scope="module")
def posted(database, module_client):
    api = Api(module_client)
    admin, approver, finance = (
        api.make_user("admin"),
        api.make_user("approver", ["13"]),
        api.make_user("finance", ["13"]),
    )
    reviewer, applicant = api.make_user("reviewer", ["13"]), api.make_user("applicant")
    programme_id = make_programme(api, admin, ceiling=80_000_000)
    app = make_application(api, applicant, programme_id)
    budget = {"capital": 10_000_000, "wages": 6_000_000}
    # An approval writes the approved budget beside its commitment (tkm verify holds the two together).
    api.call(
        db.execute,
        "UPDATE applications SET approved_budget = {}, approved_total = {} WHERE id = {}",
        json.dumps(budget),
        sum(budget.values()),
        app["id"],
    )
    api.call(services.commit_budget, app["id"], programme_id, budget, actor(approver))
    pay = api.call(services.record_payment, app["id"], "capital", 4_000_000, "TRF-1", actor(finance))
    api.call(services.reverse, pay, "rejected by the bank", actor(finance))
    api.call(services.record_payment, app["id"], "capital", 4_000_000, "TRF-2", actor(finance))
    api.call(
        services.record_report,
        app["id"],
        grant_spent={"capital": 1_500_000},
        own_spent=500_000,
        revenue=2_000_000,
        reference="2020-04",
        actor=actor(reviewer),
    )
    return {"api": api, "app": app, "payment": pay}


def behind_the_back(database, statements: list[str]) -> None:
    """Run SQL with the append-only triggers out of the way, as someone with database access could."""
    if database.kind == "sqlite":
        conn = sqlite3.connect(database.url.removeprefix("sqlite:///"))
        try:
            conn.execute("DROP TRIGGER ledger_entries_no_update")
            conn.execute("DROP TRIGGER ledger_entries_no_delete")
            for statement in statements:
                conn.execute(statement)
            for statement in TRIGGERS.LEDGER_SQLITE:
                conn.execute(statement)  # CREATE TRIGGER IF NOT EXISTS: puts the two back
            conn.commit()
        finally:
            conn.close()
        return
    import asyncpg

    async def run():
        conn = await asyncpg.connect(database.url)  # the tests connect as the postgres superuser
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")  # user triggers do not fire
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def entry(posted, where: str, columns: str = "id, seq, amount") -> dict:
    from tkm.core import db

    row = posted["api"].call(db.fetch_one, f"SELECT {columns} FROM ledger_entries WHERE {where}")  # noqa: S608
    return dict(row)


def test_verify_is_ok_on_a_healthy_ledger(env, posted):
    assert posted["api"].call(services.verify) is None
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok     funds trail" in result.stdout


def test_verify_names_the_entry_whose_amount_was_edited_and_a_cut_off_end(database, env, posted):
    target = entry(posted, f"txn = {posted['payment']} AND amount > 0 ORDER BY seq LIMIT 1")
    behind_the_back(database, [f"UPDATE ledger_entries SET amount = amount + 1000000 WHERE id = {target['id']}"])  # noqa: S608

    broken = processes.run_tkm(["verify"], env)
    assert broken.returncode == 1
    assert "BROKEN funds trail" in broken.stdout
    assert f"record {target['id']} (seq {target['seq']})" in broken.stdout
    assert "hash mismatch" in broken.stdout
    assert "ok     audit trail" in broken.stdout  # the other chain is untouched

    # Put it back: the chain is whole again.
    behind_the_back(database, [f"UPDATE ledger_entries SET amount = {target['amount']} WHERE id = {target['id']}"])  # noqa: S608
    assert processes.run_tkm(["verify"], env).returncode == 0

    # Cut the newest entry off the end: the chain head still counts it.
    last = entry(posted, "seq = (SELECT MAX(seq) FROM ledger_entries)", columns="*")
    behind_the_back(database, [f"DELETE FROM ledger_entries WHERE id = {last['id']}"])  # noqa: S608
    cut = processes.run_tkm(["verify"], env)
    assert cut.returncode == 1
    assert "BROKEN funds trail" in cut.stdout and f"chain head records {last['seq']} links" in cut.stdout

    # Put it back as it was (inserting is what the ledger allows): whole again.
    values = ", ".join(repr(last[c]) for c in COLUMNS)
    behind_the_back(database, [f"INSERT INTO ledger_entries ({', '.join(COLUMNS)}) VALUES ({values})"])  # noqa: S608
    assert processes.run_tkm(["verify"], env).returncode == 0


def test_an_unbalanced_transaction_with_valid_hashes_is_caught(database, env, posted):
    """Someone writing through the hash chain but skipping the balance check: PostgreSQL refuses the commit,
    and `tkm verify` names the transaction on SQLite (which has no deferred constraints)."""
    from tkm.core import db, hashchain
    from tkm.ledger.posting import Posting, entry_fields
    from tkm.ledger.tables import LedgerEntry

    app_id = posted["app"]["id"]

    async def post_one_leg():
        async with db.transaction():
            one_leg = Posting(services.Kind.payment, [], application_id=app_id, reference="ONE-LEG")
            txn = await services._open(one_leg, None)
            account = await db.fetch_one("SELECT account FROM ledger_entries ORDER BY seq LIMIT 1")
            for amount in (700, -600):
                fields = entry_fields(txn, "prog:1:available", amount, app_id)
                link = await hashchain.append(services.CHAIN, fields)
                await LedgerEntry.insert(
                    LedgerEntry(
                        seq=link.seq,
                        txn=txn["id"],
                        account=account["account"],
                        amount=amount,
                        application_id=app_id,
                        prev_hash=link.prev_hash,
                        hash=link.hash,
                    )
                )
            return txn["id"]

    if database.kind == "postgres":
        import asyncpg

        with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
            posted["api"].call(post_one_leg)

        async def connections_in_use():
            pool = db.get_engine().pool
            return pool.get_size() - pool.get_idle_size()

        assert posted["api"].call(connections_in_use) == 0  # the failed COMMIT gave its connection back
        assert processes.run_tkm(["verify"], env).returncode == 0
        return
    txn_id = posted["api"].call(post_one_leg)
    result = processes.run_tkm(["verify"], env)
    assert result.returncode == 1
    assert f"ends ledger transaction {txn_id}, which does not balance" in result.stdout
