"""Brings a database of the earlier migrations forward to the baseline; ``tkm migrate`` runs it first.

Until 2026-12-01 the schema was built by fifteen migrations (2026-11-29, the last ``2026-11-29T10:45:00:000000``),
with one transition log per flow: ``application_events``, ``tranche_events`` and ``report_events``. The baseline
(one auto migration and one raw step) replaced them, and those three tables by ``history_events``. A database of
the earlier chain already has every other table, index and trigger of the baseline, so converting it means: create
``history_events`` as the baseline does, copy every old event row into it, drop the old tables, and record the
baseline as applied instead of the old names. All of it in one transaction: the database is converted or left as
it was. A database with only part of the earlier chain (made before the last of them) cannot be converted.

The SQL here is frozen: it is what the baseline made on 2026-12-01, whatever the tables look like later (later
migrations run after the conversion like after a fresh baseline). Statements go through Piccolo's QueryString,
where ``{}`` is a placeholder: a literal brace is written twice.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from urllib.parse import urlsplit

from tkm.core import db
from tkm.core.settings import get_settings

APP_NAME = "tkm"

#: The earlier chain. A database with all of these is converted; one with only some of them cannot be.
EARLIER = (
    "2026-11-29T05:53:21:170392",
    "2026-11-29T05:54:00:000000",
    "2026-11-29T06:12:27:370379",
    "2026-11-29T06:12:30:000000",
    "2026-11-29T06:24:28:324143",
    "2026-11-29T06:24:40:000000",
    "2026-11-29T06:29:08:027013",
    "2026-11-29T06:29:10:000000",
    "2026-11-29T06:42:54:584326",
    "2026-11-29T06:42:55:000000",
    "2026-11-29T06:56:07:529549",
    "2026-11-29T06:56:08:000000",
    "2026-11-29T09:10:00:000000",
    "2026-11-29T10:17:08:917030",
    "2026-11-29T10:45:00:000000",
)

#: The baseline: the tables, then their indexes, constraints and triggers (whose history statements we reuse).
BASELINE_TABLES = "tkm.migrations.tkm_2026_12_01t16_23_53_280719"
BASELINE_RAW = "tkm.migrations.tkm_2026_12_01t16_23_54_000000"

#: ``history_events`` as the baseline creates it on SQLite (Piccolo's DDL for ``HistoryEvent``).
_HISTORY_TABLE = (
    'CREATE TABLE "history_events" ("id" INTEGER PRIMARY KEY NOT NULL, '
    '"record_kind" VARCHAR(30) NOT NULL DEFAULT \'\', "record_id" INTEGER NOT NULL DEFAULT 0, '
    '"seq" INTEGER NOT NULL DEFAULT 0, "action" VARCHAR(60) NOT NULL DEFAULT \'\', '
    "\"from_state\" VARCHAR(40) NOT NULL DEFAULT '', \"to_state\" VARCHAR(40) NOT NULL DEFAULT '', "
    '"actor" INTEGER REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null, '
    "\"actor_name\" VARCHAR(200) NOT NULL DEFAULT '', \"actor_role\" VARCHAR(20) NOT NULL DEFAULT '', "
    '"at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "notes" TEXT NOT NULL DEFAULT \'\', '
    "\"body\" JSON NOT NULL DEFAULT '{{}}')"
)

# Application events keep their ids: letters and notifications name them ("event:<id>" subject and dedupe keys).
_COPY_APPLICATION_EVENTS = (
    "INSERT INTO history_events (id, record_kind, record_id, seq, action, from_state, to_state, actor, actor_name, "
    "actor_role, at, notes, body) "
    "SELECT id, 'application', application, seq, action, from_state, to_state, actor, actor_name, actor_role, at, "
    "notes, body FROM application_events ORDER BY id"
)
# The sequence does not see explicit ids: move it past them before rows take ids from it.
_SEQUENCE_PAST_COPIED_IDS = "SELECT setval(pg_get_serial_sequence('history_events', 'id'), MAX(id)) FROM history_events"

# Tranche and report events had no role and no body: the role is the actor's (users.role), the body the default.
_COPY_TRANCHE_EVENTS = (
    "INSERT INTO history_events (record_kind, record_id, seq, action, from_state, to_state, actor, actor_name, "
    "actor_role, at, notes) "
    "SELECT 'tranche', e.tranche, e.seq, e.action, e.from_status, e.to_status, e.actor, e.actor_name, "
    "COALESCE(u.role, ''), e.at, e.notes FROM tranche_events e LEFT JOIN users u ON u.id = e.actor ORDER BY e.id"
)
# Report events had no states: each of the four review actions had one move.
_COPY_REPORT_EVENTS = (
    "INSERT INTO history_events (record_kind, record_id, seq, action, from_state, to_state, actor, actor_name, "
    "actor_role, at, notes) "
    "SELECT 'report', e.report, e.seq, e.action, "
    "CASE e.action WHEN 'request_revision' THEN 'submitted' WHEN 'resubmit' THEN 'revision_requested' "
    "WHEN 'accept' THEN 'submitted' ELSE '' END, "
    "CASE e.action WHEN 'submit' THEN 'submitted' WHEN 'request_revision' THEN 'revision_requested' "
    "WHEN 'resubmit' THEN 'submitted' WHEN 'accept' THEN 'accepted' ELSE '' END, "
    "e.actor, e.actor_name, COALESCE(u.role, ''), e.at, e.notes "
    "FROM report_events e LEFT JOIN users u ON u.id = e.actor ORDER BY e.id"
)
#: Dropping a table drops its indexes and triggers with it (on both engines).
_OLD_TABLES = ("report_events", "tranche_events", "application_events")


class EarlierSchema(Exception):
    """A database made by only part of the earlier migrations: nothing brings it forward."""


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def baseline_ids() -> list[str]:
    return [_module(BASELINE_TABLES).ID, _module(BASELINE_RAW).ID]


def _where() -> str:
    """What to delete, for people: the data folder (SQLite) or the database (PostgreSQL; no credentials)."""
    settings = get_settings()
    if settings.database_kind == "postgres":
        return f"drop the database {urlsplit(settings.database_url).path.lstrip('/')!r} and create it empty"
    return f"delete {settings.data_dir} (or just {settings.sqlite_path})"


async def _applied() -> set[str]:
    from piccolo.apps.migrations.tables import Migration

    rows = await Migration.select(Migration.name).where(Migration.app_name == APP_NAME)
    return {row["name"] for row in rows}


async def _count(table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - our own table names
    return int(row["n"]) if row else 0


async def bring_forward() -> str | None:
    """Convert a database of the earlier migrations (see the module docstring); None when there is nothing to do.

    Raises ``EarlierSchema`` for a database of only part of them. Needs Piccolo's ``migration`` table.
    """
    from piccolo.apps.migrations.tables import Migration

    async with db.transaction():
        earlier = await _applied() & set(EARLIER)
        if not earlier:
            return None
        if len(earlier) < len(EARLIER):
            raise EarlierSchema(
                f"this database was made by an early TKM ({len(earlier)} of the {len(EARLIER)} migrations of "
                f"2026-11-29) and cannot be brought forward: {_where()}, then run `tkm migrate` again."
            )
        old = {table: await _count(table) for table in _OLD_TABLES}
        raw = _module(BASELINE_RAW)
        sqlite = db.is_sqlite()
        statements = [
            # The same on PostgreSQL but for the id: SERIAL there.
            _HISTORY_TABLE if sqlite else _HISTORY_TABLE.replace('"id" INTEGER', '"id" SERIAL', 1),
            *raw.HISTORY,
            *(raw.HISTORY_SQLITE if sqlite else raw.HISTORY_POSTGRES),
            _COPY_APPLICATION_EVENTS,
            *([] if sqlite else [_SEQUENCE_PAST_COPIED_IDS]),
            _COPY_TRANCHE_EVENTS,
            _COPY_REPORT_EVENTS,
        ]
        for statement in statements:
            await db.execute(statement)
        moved = await _count("history_events")
        if moved != sum(old.values()):  # rolls everything back
            raise RuntimeError(f"history_events has {moved} rows after the copy of {sum(old.values())}")
        for table in _OLD_TABLES:
            await db.execute(f"DROP TABLE {table}")
        # The monthly activity is derived data; recompute it under today's account names (the earlier ledger
        # kept "expense" rows that the two pools no longer have).
        from tkm.ledger.activity import rebuild_statements

        for statement in rebuild_statements(sqlite):
            await db.execute(statement)
        await Migration.delete().where((Migration.app_name == APP_NAME) & Migration.name.is_in(list(EARLIER)))
        await Migration.insert(*[Migration(name=name, app_name=APP_NAME) for name in baseline_ids()])
    return (
        f"Brought a database of the earlier migrations forward to the baseline: {moved} history events "
        f"({old['application_events']} application, {old['tranche_events']} tranche, "
        f"{old['report_events']} report) moved into history_events."
    )
