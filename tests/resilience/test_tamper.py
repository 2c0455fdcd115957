"""An attacker with database access (and DDL rights) who knows the code but not TKM_LEDGER_KEY.

Each test changes the database (or a stored file) behind the application's back, checks that `tkm verify`
exits non-zero naming the record (table and id), then puts everything back and checks verify is whole
again, so the next attack starts from a sound installation. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import json
import sqlite3
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.core import checkpoints, db, hashchain
from tkm.ledger import services as ledger
from tkm.ledger.posting import entry_fields
from tkm.testing import processes

pytestmark = pytest.mark.slow

BASELINE = importlib.import_module("tkm.migrations.tkm_2026_12_01t16_23_54_000000")
KEYED = importlib.import_module("tkm.migrations.tkm_2026_12_01t19_45_48_000000")
SQLITE_TRIGGERS = BASELINE.SQLITE + KEYED.AUDIT_SQLITE
GUARDED = ("ledger_accounts", "ledger_transactions", "ledger_entries", "history_events", "audit_events")


def attack(database: Any, statements: list[str]) -> None:
    """Run SQL past the append-only triggers, as the owner of the database can (drop them, or turn them off)."""
    if database.kind == "sqlite":
        conn = sqlite3.connect(database.url.removeprefix("sqlite:///"))
        try:
            for table in GUARDED:
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            for statement in statements:
                conn.execute(statement)
            for statement in SQLITE_TRIGGERS:
                if statement.startswith("CREATE TRIGGER"):
                    conn.execute(statement)  # IF NOT EXISTS: puts the dropped ones back
            conn.commit()
        finally:
            conn.close()
        return
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(database.url)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")  # user triggers do not fire
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def verify(env: dict[str, str]) -> Any:
    return processes.run_tkm(["verify"], env)


def assert_caught(env: dict[str, str], check: str, *names: str) -> str:
    result = verify(env)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next((x for x in result.stdout.splitlines() if x.startswith(f"BROKEN {check}:")), None)
    assert line is not None, result.stdout
    for name in names:
        assert name in line, (name, line)
    return line


def assert_whole(env: dict[str, str]) -> None:
    result = verify(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.fixture(scope="module")
def world(module_client: Any) -> World:
    world = World(Api(module_client))
    world.auditor = world.api.make_user("auditor")
    world.auditor_headers = world.auditor["headers"]
    return world


@pytest.fixture(scope="module")
def paid(world: World, env: dict[str, str]) -> dict[str, Any]:
    """A grant with paid tranches, its letters rendered, and a checkpoint written by `tkm verify --checkpoint`."""
    from tkm.documents import services as documents

    group = world.make_group(world.applicant, name="Kelompok Jejak Utuh")
    app = world.to_state(world.new_application(group=group)["id"], "active")
    world.pay_all(app["id"])
    for d in world.get(f"/api/v1/applications/{app['id']}/documents", world.finance).json():
        if d["rendering"] == "pending":
            world.api.call(documents.render, d["id"])
    tranches = world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
    tranche = next(t for t in tranches if t["status"] == "paid")
    written = processes.run_tkm(["verify", "--checkpoint"], env)
    assert written.returncode == 0, written.stdout + written.stderr
    assert "Checkpoint" in written.stdout
    return {"app": app, "tranche": tranche}


def rows(world: World, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in world.api.call(db.fetch, sql, *args)]


def ledger_chain(world: World) -> list[dict[str, Any]]:
    """The ledger as `tkm verify` reads it, with each entry's hashed fields."""
    found = rows(
        world,
        "SELECT e.id, e.seq, e.amount, e.application_id, e.prev_hash, e.hash, a.code, t.id AS txn_id, t.kind, "
        "t.application, t.programme, t.component, t.reference, t.memo, t.reverses, t.actor_id, t.actor, "
        "t.actor_name, t.at, t.period, t.value_date FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account "
        "JOIN ledger_transactions t ON t.id = e.txn ORDER BY e.seq",
    )
    for r in found:
        r["txn"] = {
            "id": r["txn_id"],
            **{k: r[k] for k in ("kind", "application", "programme", "component", "reference", "memo", "reverses")},
            **{k: r[k] for k in ("actor_id", "actor", "actor_name", "period", "value_date")},
            "at": ledger._as_datetime(r["at"]),
        }
    return found


def relink(entries: list[dict[str, Any]], amounts: dict[int, int], link: Any, start: int = 0) -> list[str]:
    """UPDATEs that change entries' amounts and recompute every hash from ``start`` with ``link``."""
    prev = entries[start - 1]["hash"] if start else hashchain.GENESIS
    statements = []
    for e in entries[start:]:
        amount = amounts.get(e["id"], int(e["amount"]))
        fields = {**entry_fields(e["txn"], e["code"], amount, e["application_id"]), "seq": int(e["seq"])}
        new = link(prev.encode() + b"\n" + hashchain.canonical(fields))
        statements.append(
            f"UPDATE ledger_entries SET amount = {amount}, prev_hash = '{prev}', hash = '{new}' WHERE id = {e['id']}"  # noqa: S608
        )
        prev = new
    statements.append(f"UPDATE chain_heads SET last_hash = '{prev}' WHERE name = 'ledger'")  # noqa: S608
    return statements


def restore_ledger(entries: list[dict[str, Any]]) -> list[str]:
    statements = [
        f"UPDATE ledger_entries SET amount = {e['amount']}, prev_hash = '{e['prev_hash']}', hash = '{e['hash']}' "  # noqa: S608
        f"WHERE id = {e['id']}"
        for e in entries
    ]
    return [
        *statements,
        f"UPDATE chain_heads SET last_hash = '{entries[-1]['hash']}', keyed_from = 1 WHERE name = 'ledger'",  # noqa: S608
    ]


def test_a_checkpoint_is_signed_and_printed_on_the_funds_trail(world, paid, env):
    """The checkpoint is outside the database, signed with the key; the funds-trail letter prints its hash."""
    from tkm.documents import services as documents

    latest = checkpoints.latest()
    assert latest is not None and len(latest["hash"]) == 64
    url = f"/api/v1/applications/{paid['app']['id']}/funds-trail"
    # Finance issues the numbered letter (auditors read it: they may not issue letters).
    issued = world.client.get(url, params={"format": "pdf"}, headers=world.finance["headers"], follow_redirects=False)
    assert issued.status_code == 202, issued.text
    world.api.call(documents.render, issued.json()["id"])
    from tests.support.letters import pdf_text

    pdf = world.get(f"/api/v1/documents/{issued.json()['id']}/pdf", world.auditor).content
    assert latest["hash"] in pdf_text(pdf).replace("\n", "")

    summary = world.post("/api/v1/programme-reports", world.auditor, {"programme": world.programme["code"]})
    assert summary.status_code in (200, 201, 202), summary.text
    world.api.call(documents.render, summary.json()["id"])
    pdf = world.get(f"/api/v1/documents/{summary.json()['id']}/pdf", world.auditor).content
    assert latest["hash"] in pdf_text(pdf).replace("\n", "")
    assert_whole(env)


def refused(database: Any, sql: str) -> str:
    """Run ``sql`` as an ordinary writer (triggers on); the database's refusal (fails when it is accepted)."""
    if database.kind == "sqlite":
        conn = sqlite3.connect(database.url.removeprefix("sqlite:///"))
        try:
            with pytest.raises(sqlite3.DatabaseError) as info:
                conn.execute(sql)
                conn.commit()
        finally:
            conn.close()
        return str(info.value)
    import asyncpg

    async def attempt() -> str:
        conn = await asyncpg.connect(database.url)
        try:
            with pytest.raises(asyncpg.PostgresError) as caught:
                await conn.execute(sql)
            return str(caught.value)
        finally:
            await conn.close()

    return asyncio.run(attempt())


@pytest.mark.parametrize("table", ["audit_events", "history_events"])
def test_the_audit_trail_and_the_history_are_append_only(database, world, paid, table):
    (before,) = rows(world, f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608
    assert int(before["n"]) > 0
    assert "append-only" in refused(database, f"UPDATE {table} SET hash = 'tampered'")  # noqa: S608
    assert "append-only" in refused(database, f"DELETE FROM {table}")  # noqa: S608
    if database.kind == "postgres":
        assert "append-only" in refused(database, f"TRUNCATE {table}")
    assert rows(world, f"SELECT COUNT(*) AS n FROM {table}") == [before]  # noqa: S608


def test_a_payment_changed_and_the_chain_recomputed_without_the_key(database, world, paid, env):
    entries = ledger_chain(world)
    payment = next(e for e in entries if e["kind"] == "payment")
    legs = [e for e in entries if e["txn_id"] == payment["txn_id"]]
    first = min(legs, key=lambda e: e["seq"])
    bigger = {e["id"]: (9_000_000 if int(e["amount"]) > 0 else -9_000_000) for e in legs}
    start = entries.index(first)
    wrong_key = hashlib.sha256(b"a guess").hexdigest().encode()
    attempts = {
        "plain SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
        "a wrong key": lambda data: hmac.new(wrong_key, data, hashlib.sha256).hexdigest(),
    }
    for _how, link in attempts.items():
        attack(database, relink(entries, bigger, link, start))
        line = assert_caught(env, "funds trail", f"ledger_entries record {first['id']} (seq {first['seq']})")
        assert "hash mismatch" in line
        attack(database, restore_ledger(entries))
        assert_whole(env)

    # Knowing the code, pass the whole chain off as one of before keys: plain SHA-256 links from the first,
    # keyed_from past the end. The walk finds no fault; the checkpoint outside the database does.
    attack(
        database,
        [
            *relink(entries, bigger, lambda data: hashlib.sha256(data).hexdigest()),
            f"UPDATE chain_heads SET keyed_from = {int(entries[-1]['seq']) + 1} WHERE name = 'ledger'",  # noqa: S608
        ],
    )
    line = assert_caught(env, "checkpoints", "chain_heads record ledger")
    assert "checkpoint" in line
    attack(database, restore_ledger(entries))
    assert_whole(env)


def test_a_paid_tranche_multiplied_by_ten(database, world, paid, env):
    tranche = paid["tranche"]
    attack(database, [f"UPDATE tranches SET amount = amount * 10 WHERE id = {tranche['id']}"])  # noqa: S608
    line = assert_caught(env, "tranches against the ledger", f"tranches record {tranche['id']}")
    assert str(tranche["amount"] * 10) in line
    attack(database, [f"UPDATE tranches SET amount = {tranche['amount']} WHERE id = {tranche['id']}"])  # noqa: S608
    assert_whole(env)

    # Unpaid on paper, paid in the ledger: the payment still stands.
    attack(database, [f"UPDATE tranches SET status = 'planned' WHERE id = {tranche['id']}"])  # noqa: S608
    assert_caught(env, "tranches against the ledger", f"tranches record {tranche['id']}")
    attack(database, [f"UPDATE tranches SET status = 'paid' WHERE id = {tranche['id']}"])  # noqa: S608

    # Another transfer reference than the bank's.
    attack(database, [f"UPDATE tranches SET transfer_reference = 'BRI-ELSEWHERE' WHERE id = {tranche['id']}"])  # noqa: S608
    assert_caught(env, "tranches against the ledger", f"tranches record {tranche['id']}", "BRI-ELSEWHERE")
    attack(
        database,
        [f"UPDATE tranches SET transfer_reference = '{tranche['transfer_reference']}' WHERE id = {tranche['id']}"],  # noqa: S608
    )
    assert_whole(env)


def test_an_approved_budget_raised_behind_the_commitment(database, world, paid, env):
    app_id = paid["app"]["id"]
    (row,) = rows(world, "SELECT approved_budget, approved_total FROM applications WHERE id = {}", app_id)
    budget = json.loads(row["approved_budget"]) if isinstance(row["approved_budget"], str) else row["approved_budget"]
    raised = {k: int(v) * 2 for k, v in budget.items()}
    raw = json.dumps(raised).replace("'", "''")
    attack(database, [f"UPDATE applications SET approved_budget = '{raw}' WHERE id = {app_id}"])  # noqa: S608
    assert_caught(env, "approved budgets against commitments", f"applications record {app_id}")
    original = json.dumps(budget).replace("'", "''")
    attack(database, [f"UPDATE applications SET approved_budget = '{original}' WHERE id = {app_id}"])  # noqa: S608
    assert_whole(env)


def test_a_history_event_edited_or_cut_off(database, world, paid, env):
    events = rows(
        world,
        "SELECT * FROM history_events WHERE record_kind = 'application' AND record_id = {} ORDER BY seq",
        paid["app"]["id"],
    )
    approval = next(e for e in events if e["action"] == "approve")
    attack(database, [f"UPDATE history_events SET notes = 'Disetujui tanpa syarat.' WHERE id = {approval['id']}"])  # noqa: S608
    line = assert_caught(env, "history", f"history_events record {approval['id']}")
    assert "hash mismatch" in line
    notes = approval["notes"].replace("'", "''")
    attack(database, [f"UPDATE history_events SET notes = '{notes}' WHERE id = {approval['id']}"])  # noqa: S608
    assert_whole(env)

    # The hash blanked, as if the event were older than keys.
    attack(database, [f"UPDATE history_events SET hash = '' WHERE id = {approval['id']}"])  # noqa: S608
    assert_caught(env, "history", f"history_events record {approval['id']}")
    attack(database, [f"UPDATE history_events SET hash = '{approval['hash']}' WHERE id = {approval['id']}"])  # noqa: S608

    # The record's last event deleted: nothing after it to miss it, but the checkpoint counted it.
    last = events[-1]
    attack(database, [f"DELETE FROM history_events WHERE id = {last['id']}"])  # noqa: S608
    assert_caught(env, "history", "history_events", "up to id")
    attack(database, [_insert("history_events", last, database.kind)])
    assert_whole(env)


def test_an_audit_event_deleted(database, world, paid, env):
    events = rows(world, "SELECT * FROM audit_events ORDER BY seq")
    middle = events[len(events) // 2]
    after = events[len(events) // 2 + 1]
    attack(database, [f"DELETE FROM audit_events WHERE id = {middle['id']}"])  # noqa: S608
    line = assert_caught(env, "audit trail", f"audit_events record {after['id']} (seq {after['seq']})")
    assert "missing" in line
    attack(database, [_insert("audit_events", middle, database.kind)])
    assert_whole(env)

    # The newest events cut off and the head wound back with them: the chain is whole, the checkpoint is not.
    (head,) = rows(world, "SELECT seq, last_hash FROM chain_heads WHERE name = 'audit'")
    kept = next(e for e in events if e["seq"] == 1)
    cut = [e for e in events if e["seq"] > 1]
    attack(
        database,
        [
            "DELETE FROM audit_events WHERE seq > 1",
            f"UPDATE chain_heads SET seq = 1, last_hash = '{kept['hash']}' WHERE name = 'audit'",  # noqa: S608
        ],
    )
    assert_caught(env, "checkpoints", "chain_heads record audit", "cut or rolled back")
    attack(
        database,
        [
            *[_insert("audit_events", e, database.kind) for e in cut],
            f"UPDATE chain_heads SET seq = {head['seq']}, last_hash = '{head['last_hash']}' WHERE name = 'audit'",  # noqa: S608
        ],
    )
    assert_whole(env)


def test_a_letter_file_deleted_or_changed(world, paid, env, settings):
    from tkm.documents import services as documents

    (letter,) = rows(
        world,
        "SELECT id, file_path FROM documents WHERE status = 'ready' AND kind = 'handover_record' "
        "AND application = {} ORDER BY id LIMIT 1",
        paid["app"]["id"],
    )
    path = settings.data_dir / letter["file_path"]
    original = path.read_bytes()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))
    line = assert_caught(env, "files against their hashes", f"documents record {letter['id']}")
    assert "does not match" in line
    path.unlink()
    line = assert_caught(env, "files against their hashes", f"documents record {letter['id']}")
    assert "missing" in line
    path.write_bytes(original)
    assert world.api.call(documents.verify_void) is None
    assert_whole(env)

    # An uploaded attachment, one byte changed.
    (upload,) = rows(
        world, "SELECT id, storage_key FROM attachments WHERE application = {} ORDER BY id LIMIT 1", paid["app"]["id"]
    )
    path = settings.data_dir / "attachments" / upload["storage_key"]
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 0x01]))
    assert_caught(env, "files against their hashes", f"attachments record {upload['id']}", "does not match")
    path.write_bytes(original)
    assert_whole(env)


def test_a_checkpoint_file_edited(paid, env):
    name = checkpoints.names()[-1]
    original = checkpoints.get(name)
    data = json.loads(original)
    data["body"]["chains"]["ledger"]["seq"] = 1
    checkpoints.put(name, json.dumps(data).encode())
    assert_caught(env, "checkpoints", f"checkpoint {name}", "signature")
    checkpoints.put(name, original)
    assert_whole(env)


def _insert(table: str, row: dict[str, Any], kind: str) -> str:
    """An INSERT putting a deleted row back as it was."""
    columns = ", ".join(row)
    values = ", ".join(_literal(v, kind) for v in row.values())
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608


def _literal(value: Any, kind: str) -> str:
    import datetime as dt

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if kind == "sqlite":
            return "'" + value.isoformat() + "'"
        return "'" + value.isoformat() + "'::timestamptz"
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"
