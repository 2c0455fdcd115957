"""The `tkm` command: help, migrate (idempotent, both engines), user add, verify."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.conftest import ledger_key_for
from tests.support.api import PASSWORD
from tkm.testing import external, processes


@pytest.fixture(scope="module")
def fresh_env(request, tmp_path_factory, secret_key):
    """An empty database of each kind, not yet migrated."""
    kind = request.param
    data = tmp_path_factory.mktemp(f"cli-{kind}")
    env = {"TKM_DATA_DIR": str(data), "TKM_SECRET_KEY": secret_key, "TKM_LEDGER_KEY": ledger_key_for(secret_key)}
    if kind == "postgres":
        external.require_postgres()
        name = external.create_postgres_database()
        env["TKM_DATABASE_URL"] = external.postgres_url_for(name)
        yield env
        external.drop_postgres_database(name)
    else:
        yield env


def schema_of(env):
    url = env.get("TKM_DATABASE_URL")
    if url is None:
        path = f"{env['TKM_DATA_DIR']}/tkm.sqlite3"
        with sqlite3.connect(path) as conn:
            return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=str)

    async def pg():
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            cols = await conn.fetch(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, 2"
            )
            idx = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
            rows = await conn.fetch("SELECT name FROM migration ORDER BY 1")
            return [tuple(r) for r in cols] + [tuple(r) for r in idx] + [tuple(r) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(pg())


def test_help_lists_every_command():
    result = processes.run_tkm(["--help"], {})
    assert result.returncode == 0
    for command in ("run", "serve", "worker", "beat", "migrate", "user", "demo", "verify"):
        assert f"  {command}" in result.stdout


@pytest.mark.parametrize("fresh_env", ["sqlite", "postgres"], indirect=True)
def test_migrate_twice_changes_nothing_the_second_time(fresh_env):
    first = processes.run_tkm(["migrate"], fresh_env)
    assert first.returncode == 0, first.stderr
    assert "Applied" in first.stdout
    schema = schema_of(fresh_env)
    assert any("users" in str(row) for row in schema)
    second = processes.run_tkm(["migrate"], fresh_env)
    assert second.returncode == 0, second.stderr
    assert "nothing to apply" in second.stdout
    assert schema_of(fresh_env) == schema


@pytest.mark.parametrize("fresh_env", ["sqlite", "postgres"], indirect=True)
def test_user_add_reads_the_password_from_stdin_and_verify_detects_tampering(fresh_env):
    assert processes.run_tkm(["migrate"], fresh_env).returncode == 0
    ok = processes.run_tkm(
        ["user", "add", "rina@tkm.test", "--role", "finance", "--region", "13.71", "--name", "Rina"],
        fresh_env,
        input_text=PASSWORD + "\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "finance" in ok.stdout
    again = processes.run_tkm(
        ["user", "add", "rina@tkm.test", "--role", "finance", "--region", "13"], fresh_env, input_text=PASSWORD + "\n"
    )
    assert again.returncode == 1 and "email:" in again.stderr
    weak = processes.run_tkm(["user", "add", "x@tkm.test", "--role", "auditor"], fresh_env, input_text="short\n")
    assert weak.returncode == 1 and "password:" in weak.stderr
    bad_role = processes.run_tkm(["user", "add", "y@tkm.test", "--role", "boss"], fresh_env, input_text=PASSWORD + "\n")
    assert bad_role.returncode == 1 and "role:" in bad_role.stderr

    verified = processes.run_tkm(["verify"], fresh_env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ok" in verified.stdout

    # Edit one audit event behind the application's back (past its append-only triggers, as DDL rights allow).
    sql = "UPDATE audit_events SET actor = 'someone-else@tkm.test' WHERE seq = 1"
    url = fresh_env.get("TKM_DATABASE_URL")
    if url is None:
        with sqlite3.connect(f"{fresh_env['TKM_DATA_DIR']}/tkm.sqlite3") as conn:
            conn.execute("DROP TRIGGER audit_events_no_update")
            conn.execute(sql)
    else:
        import asyncpg

        async def tamper():
            conn = await asyncpg.connect(url)
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(sql)
            await conn.close()

        asyncio.run(tamper())
    broken = processes.run_tkm(["verify"], fresh_env)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout and "seq 1" in broken.stdout
