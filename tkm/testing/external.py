"""PostgreSQL, Redis and Chromium for tests and benchmarks: finding them, throwaway PostgreSQL databases.

Locally a missing server skips the tests that need it; in CI
(``TKM_TEST_REQUIRE_SERVICES=1``, set by .ci/run) it fails them instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from functools import cache

REQUIRE_SERVICES = os.environ.get("TKM_TEST_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TKM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TKM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("TKM_TEST_CHROMIUM", "/usr/bin/chromium")


def _missing(what: str, why: str) -> None:
    import pytest  # only tests get here; benchmarks and the demo import this module without pytest

    message = f"{what} is not available ({why})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; TKM_TEST_REQUIRE_SERVICES=1 makes this a failure, not a skip", pytrace=False)
    pytest.skip(message)


@cache
def _postgres_error() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{POSTGRES_URL}: {exc}"
    return None


@cache
def _redis_error() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{REDIS_URL}: {exc}"
    return None


def require_postgres() -> None:
    error = _postgres_error()
    if error:
        _missing("PostgreSQL", error)


def require_redis() -> None:
    error = _redis_error()
    if error:
        _missing("Redis", error)


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _missing("Chromium", f"{CHROMIUM} not found; on Debian: apt-get install chromium")
    return CHROMIUM if os.path.exists(CHROMIUM) else str(shutil.which("chromium"))


def postgres_url_for(database: str, server: str = POSTGRES_URL) -> str:
    """The URL of ``database`` on the server of ``server`` (a URL naming any database there)."""
    base, _sep, _name = server.rpartition("/")
    return f"{base}/{database}"


async def _admin(sql: str, server: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_postgres_database(template: str | None = None, name: str | None = None, server: str = POSTGRES_URL) -> str:
    """A new database (a random ``tkm_test_...`` name unless given), copied from ``template`` if given."""
    name = name or f"tkm_test_{os.getpid()}_{secrets.token_hex(4)}"
    sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    asyncio.run(_admin(sql, server))
    return name


def drop_postgres_database(name: str, server: str = POSTGRES_URL) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server))
