"""Migrations: the baseline on an empty database, and the bridge from databases of the earlier migrations.

The earlier databases are dumps made by the code of commit 38ac73d (``tests/fixtures/old_main/make.py``):
a part of that code's demo, with rows in application_events, tranche_events and report_events.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tkm.migrations
from tests.fixtures.old_main.make import SECRET_KEY as FIXTURE_SECRET_KEY
from tkm.core import migration_bridge
from tkm.testing import external as services
from tkm.testing import processes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "old_main"
OLD_TABLES = ("application_events", "tranche_events", "report_events")
#: Report events had no states; each review action had one move.
REPORT_MOVES = {
    "submit": ("", "submitted"),
    "request_revision": ("submitted", "revision_requested"),
    "resubmit": ("revision_requested", "submitted"),
    "accept": ("submitted", "accepted"),
}


class Installation:
    """One TKM installation (environment for ``tkm``) and raw SQL on its database, outside the app."""

    def __init__(self, kind: str, data_dir: Path, secret_key: str, postgres_name: str | None = None) -> None:
        self.kind, self.postgres_name = kind, postgres_name
        self.env = {"TKM_DATA_DIR": str(data_dir), "TKM_SECRET_KEY": secret_key, "TKM_LEDGER_KEY": "l" * 40}
        if postgres_name:
            self.env["TKM_DATABASE_URL"] = services.postgres_url_for(postgres_name)
        self.sqlite_path = data_dir / "tkm.sqlite3"

    def tkm(self, *args: str) -> Any:
        return processes.run_tkm(list(args), self.env)

    def script(self, sql: str) -> None:
        if self.kind == "sqlite":
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(self.sqlite_path) as conn:
                conn.executescript(sql)
            return

        async def run() -> None:
            import asyncpg

            conn = await asyncpg.connect(self.env["TKM_DATABASE_URL"])
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def rows(self, sql: str) -> list[dict[str, Any]]:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.sqlite_path)
            conn.row_factory = sqlite3.Row
            try:
                return [dict(row) for row in conn.execute(sql).fetchall()]
            finally:
                conn.close()

        async def run() -> list[dict[str, Any]]:
            import asyncpg

            conn = await asyncpg.connect(self.env["TKM_DATABASE_URL"])
            try:
                return [dict(row) for row in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(run())

    def tables(self) -> set[str]:
        if self.kind == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        return {row["name"] for row in self.rows(sql)}

    def schema(self) -> list[tuple[Any, ...]]:
        """Tables, columns, indexes, constraints, triggers and functions, comparable between two databases."""
        if self.kind == "sqlite":
            rows = self.rows("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name <> 'sqlite_sequence'")
            return sorted(tuple(str(v) for v in row.values()) for row in rows)
        queries = [
            "SELECT 'column', table_name, column_name, ordinal_position, data_type, character_maximum_length, "
            "is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public'",
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
            "SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace",
            "SELECT 'trigger', tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal",
            "SELECT 'function', proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
        ]
        return sorted(tuple(str(v) for v in row.values()) for sql in queries for row in self.rows(sql))

    def migrations(self) -> list[str]:
        return [row["name"] for row in self.rows("SELECT name FROM migration ORDER BY name")]


def every_migration() -> list[str]:
    """The IDs of every migration in tkm/migrations, in order: the baseline's two, then those made since."""
    folder = Path(tkm.migrations.__file__).parent
    ids = sorted(importlib.import_module(f"tkm.migrations.{f.stem}").ID for f in folder.glob("tkm_*.py"))
    assert ids[:2] == migration_bridge.baseline_ids()
    return ids


def _installation(kind: str, tmp: Path, secret_key: str) -> Iterator[Installation]:
    if kind == "sqlite":
        yield Installation("sqlite", tmp, secret_key)
        return
    services.require_postgres()
    name = services.create_postgres_database()
    try:
        yield Installation("postgres", tmp, secret_key, name)
    finally:
        services.drop_postgres_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fresh(kind: str, tmp_path_factory: pytest.TempPathFactory, secret_key: str) -> Iterator[Installation]:
    """An empty database, migrated once: what a new installation gets."""
    for installation in _installation(kind, tmp_path_factory.mktemp(f"fresh-{kind}"), secret_key):
        result = installation.tkm("migrate")
        assert result.returncode == 0, result.stderr
        yield installation


@pytest.fixture
def old(kind: str, tmp_path: Path) -> Iterator[Installation]:
    """A database made by the earlier migrations, with data (loaded from the dump of that code)."""
    for installation in _installation(kind, tmp_path, FIXTURE_SECRET_KEY):
        installation.script((FIXTURES / f"{kind}.sql").read_text())
        yield installation


# --- the baseline -----------------------------------------------------------------------------------------------


def test_a_new_database_has_history_events_and_none_of_the_per_flow_event_tables(fresh):
    tables = fresh.tables()
    assert "history_events" in tables
    assert not tables & set(OLD_TABLES)
    assert "ledger_activity" in tables  # made by the raw step, not a Piccolo table
    indexes = {row["name"] for row in fresh.rows(_index_names(fresh.kind, "history_events"))}
    assert {"history_events_record", "history_events_record_seq"} <= indexes
    assert fresh.migrations() == every_migration()
    offices = fresh.rows("SELECT code FROM offices WHERE is_default = TRUE")
    assert [row["code"] for row in offices] == ["PUSAT"]


def test_history_events_keeps_its_order_and_refuses_changes(fresh):
    insert = (
        "INSERT INTO history_events (record_kind, record_id, seq, action, from_state, to_state, at) "
        "VALUES ('tranche', 7, 1, 'request', 'planned', 'requested', CURRENT_TIMESTAMP)"
    )
    fresh.script(insert)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        fresh.script(insert)  # (record_kind, record_id, seq) is unique
    fresh.script(insert.replace("'tranche', 7, 1", "'report', 7, 1"))  # another kind: another record
    with pytest.raises(Exception, match="history_events is append-only: UPDATE refused"):
        fresh.script("UPDATE history_events SET notes = 'edited' WHERE record_id = 7")
    with pytest.raises(Exception, match="history_events is append-only: DELETE refused"):
        fresh.script("DELETE FROM history_events WHERE record_id = 7")
    rows = fresh.rows("SELECT record_kind, notes FROM history_events WHERE record_id = 7 ORDER BY record_kind")
    assert rows == [{"record_kind": "report", "notes": ""}, {"record_kind": "tranche", "notes": ""}]


def _index_names(kind: str, table: str) -> str:
    if kind == "sqlite":
        return f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'"  # noqa: S608
    return f"SELECT indexname AS name FROM pg_indexes WHERE tablename = '{table}'"  # noqa: S608


# --- the bridge -------------------------------------------------------------------------------------------------


def _old_events(old: Installation) -> dict[str, list[dict[str, Any]]]:
    return {
        "application": old.rows("SELECT * FROM application_events ORDER BY id"),
        "tranche": old.rows(
            "SELECT e.*, u.role FROM tranche_events e LEFT JOIN users u ON u.id = e.actor ORDER BY e.id"
        ),
        "report": old.rows("SELECT e.*, u.role FROM report_events e LEFT JOIN users u ON u.id = e.actor ORDER BY e.id"),
    }


def _body(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_migrate_brings_a_database_of_the_earlier_migrations_forward(old, fresh):
    events = _old_events(old)
    assert {kind: len(rows) > 0 for kind, rows in events.items()} == {
        "application": True,
        "tranche": True,
        "report": True,
    }
    assert {row["action"] for row in events["report"]} == set(REPORT_MOVES)
    assert migration_bridge.EARLIER[-1] in old.migrations()

    result = old.tkm("migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "history events" in result.stderr

    # Every old row is in history_events, under its flow and record, with its states.
    history = old.rows("SELECT * FROM history_events ORDER BY id")
    assert len(history) == sum(len(rows) for rows in events.values())
    by_key = {(row["record_kind"], row["record_id"], row["seq"]): row for row in history}
    for event in events["application"]:
        moved = by_key[("application", event["application"], event["seq"])]
        assert moved["id"] == event["id"]  # letters name application events by id ("event:<id>")
        for column in ("action", "from_state", "to_state", "actor", "actor_name", "actor_role", "at", "notes"):
            assert moved[column] == event[column], column
        assert _body(moved["body"]) == _body(event["body"])
    for event in events["tranche"]:
        moved = by_key[("tranche", event["tranche"], event["seq"])]
        assert (moved["action"], moved["from_state"], moved["to_state"]) == (
            event["action"],
            event["from_status"],
            event["to_status"],
        )
        assert (moved["actor"], moved["actor_name"], moved["actor_role"]) == (
            event["actor"],
            event["actor_name"],
            event["role"],
        )
        assert (moved["at"], moved["notes"], _body(moved["body"])) == (event["at"], event["notes"], {})
    for event in events["report"]:
        moved = by_key[("report", event["report"], event["seq"])]
        assert (moved["action"], moved["from_state"], moved["to_state"]) == (
            event["action"],
            *REPORT_MOVES[event["action"]],
        )
        assert (moved["actor"], moved["actor_role"], moved["at"], _body(moved["body"])) == (
            event["actor"],
            event["role"],
            event["at"],
            {},
        )

    # The old tables are gone; the schema and the migration records are a new installation's.
    assert not old.tables() & set(OLD_TABLES)
    assert old.migrations() == fresh.migrations() == every_migration()
    assert old.schema() == fresh.schema()

    # New events take new ids (on PostgreSQL the sequence was moved past the copied ones).
    old.script(
        "INSERT INTO history_events (record_kind, record_id, seq, action, at) "
        "VALUES ('application', 1, 1000, 'note', CURRENT_TIMESTAMP)"
    )
    assert old.rows("SELECT MAX(id) AS id FROM history_events")[0]["id"] == len(history) + 1

    # A second run changes nothing; the ledger's and the audit trail's hash chains are intact.
    again = old.tkm("migrate")
    assert again.returncode == 0, again.stderr
    assert "nothing to apply" in again.stdout and "history events" not in again.stderr
    assert old.schema() == fresh.schema()
    # The chains verify; what verify now proves besides also finds what this test did behind the app's back
    # (the event inserted by SQL above carries no keyed hash) and what the dump lacks (the uploads' files).
    verified = old.tkm("verify")
    lines = verified.stdout.splitlines()
    for check in ("audit trail", "funds trail", "checkpoints", "approved budgets against commitments"):
        assert f"ok     {check}" in lines, verified.stdout + verified.stderr
    assert f"BROKEN history: history_events record {len(history) + 1} " in verified.stdout
    assert "BROKEN files against their hashes: attachments record 1: " in verified.stdout
    assert sum(line.startswith("BROKEN") for line in lines) == 2, verified.stdout


def test_a_database_of_only_some_earlier_migrations_is_refused_in_one_line(old):
    old.script(f"DELETE FROM migration WHERE name = '{migration_bridge.EARLIER[-1]}'")  # noqa: S608 - a constant
    before = old.schema()

    result = old.tkm("migrate")

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "14 of the 15" in lines[0]
    assert ("delete" if old.kind == "sqlite" else "drop the database") in lines[0]
    assert old.schema() == before  # nothing was changed
    assert set(OLD_TABLES) <= old.tables()
