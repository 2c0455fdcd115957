"""Dashboard benchmark: GET /api/v1/dashboard over HTTP against the same aggregates as raw SQL.

    .venv/bin/python -m bench.dashboard [--groups 10000] [--requests 40] [--reuse] [--output docs/benchmarks.md]

1. Creates a dedicated PostgreSQL database (``tkm_bench_dashboard`` on the server of
   ``TKM_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``), migrates it and
   loads ``tkm demo --scale N`` (with ``--reuse``, an existing database with N scale groups is kept).
2. Starts ``tkm serve`` on it and logs in over HTTP as a national-scope user (an auditor: every region).
3. Interleaves, ``requests`` times each: the dashboard over HTTP (a real client on a keep-alive
   connection) and, in this process, exactly the statements of ``tkm.dashboard.queries.all_queries``
   for the same scope as raw SQL on asyncpg, run the way the app runs them (all at once, each on a
   pooled connection: the baseline of the ratio) and one after another on one connection. Reports
   the medians, the ratio HTTP / raw SQL (goal: <= 1.5) and the HTTP median (goal: < 300 ms).

No timing is asserted anywhere; the numbers go to docs/benchmarks.md (its Dashboard section only).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tkm.testing import external, processes

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "tkm_bench_dashboard"
BASE_URL = os.environ.get("TKM_BENCH_POSTGRES_URL", external.POSTGRES_URL)
RATIO_GOAL = 1.5
MEDIAN_GOAL_MS = 300
WARM_UP = 3
LOAD_AT_START = os.getloadavg()[0]
HEADING = "## Dashboard (`make bench-dashboard`)"
USER = "nasional@bench.tkm.test"


async def _scale_groups(url: str) -> int:
    import asyncpg

    from tkm.demo.scale import PROGRAMME

    try:
        conn = await asyncpg.connect(url)
    except Exception:
        return -1  # no such database
    try:
        return int(
            await conn.fetchval(
                "SELECT COUNT(*) FROM applications a JOIN programmes p ON p.id = a.programme WHERE p.code = $1",
                PROGRAMME,
            )
        )
    except Exception:
        return -1  # not migrated
    finally:
        await conn.close()


def _tkm(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = processes.run_tkm(args, env, timeout=None)
    if result.returncode != 0:
        raise SystemExit(f"tkm {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started, result.stdout


def prepare(groups: int, reuse: bool, env: dict[str, str]) -> dict[str, Any]:
    """The database with ``groups`` scale groups; returns what it took to load."""
    url = env["TKM_DATABASE_URL"]
    have = asyncio.run(_scale_groups(url))
    if reuse and have == groups:
        print(f"reusing {DATABASE} ({have} scale groups)", flush=True)
        return {"reused": True}
    external.drop_postgres_database(DATABASE, server=BASE_URL)
    external.create_postgres_database(name=DATABASE, server=BASE_URL)
    _tkm(["migrate"], env)
    print(f"loading tkm demo --scale {groups} into {DATABASE} ...", flush=True)
    seconds, output = _tkm(["demo", "--scale", str(groups)], env)
    print(f"  {seconds:.0f} s", flush=True)
    return {"reused": False, "load_seconds": seconds, "output": output.strip().splitlines()[-1]}


async def _national_user(password: str) -> None:
    from tkm.auth import services
    from tkm.auth.tables import User
    from tkm.core import db

    db.configure()
    if not await User.exists().where(User.email == USER):
        await services.create_user(None, USER, "Inspektorat Nasional", password, "auditor", [], "")
    else:
        from tkm.auth.passwords import hash_password

        await User.update({User.password_hash: hash_password(password)}).where(User.email == USER)


def _asyncpg_sql(sql: str) -> str:
    """``tkm.core.db`` placeholders ``{}`` as asyncpg's ``$1, $2, ...``; the text is otherwise unchanged."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\{\}", lambda _m: f"${next(counter)}", sql)


def measure(url: str, password: str, requests: int) -> dict[str, Any]:
    import asyncpg
    import httpx

    from tkm.auth.roles import CurrentUser
    from tkm.dashboard import queries, services

    national = CurrentUser(id=0, email=USER, name="", role="auditor")
    filters = services.Filters(programme_id=None, programme="", programme_name="", region="")
    scope = services.scope_for(national, filters)
    named = queries.all_queries(scope, services.breakdown_depth(national, ""))
    statements = [(name, _asyncpg_sql(sql), args) for name, (sql, args) in named.items()]
    per_statement: dict[str, list[float]] = {name: [] for name in named}

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # asyncpg's pool looks for the current loop
    conn = loop.run_until_complete(asyncpg.connect(os.environ["TKM_DATABASE_URL"]))

    async def open_pool() -> Any:
        return await asyncpg.create_pool(
            os.environ["TKM_DATABASE_URL"], min_size=len(statements), max_size=len(statements)
        )

    pool = loop.run_until_complete(open_pool())

    async def one_by_one(record: bool) -> None:
        for name, sql, args in statements:
            started = time.perf_counter()
            await conn.fetch(sql, *args)
            if record:
                per_statement[name].append((time.perf_counter() - started) * 1000)

    async def side_by_side() -> None:
        # As tkm.dashboard.services runs them: every aggregate at once, each on its own pooled connection.
        await asyncio.gather(*(pool.fetch(sql, *args) for _name, sql, args in statements))

    def timed(action: Any) -> float:
        started = time.perf_counter()
        action()
        return (time.perf_counter() - started) * 1000

    http_ms: list[float] = []
    sql_ms: list[float] = []
    serial_ms: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        r = client.post("/api/v1/auth/login", json={"email": USER, "password": password})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        body: dict[str, Any] = {}
        for i in range(WARM_UP + requests):
            started = time.perf_counter()
            response = client.get("/api/v1/dashboard", headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            body = response.json()
            parallel = timed(lambda: loop.run_until_complete(side_by_side()))
            serial = timed(lambda i=i: loop.run_until_complete(one_by_one(i >= WARM_UP)))
            if i >= WARM_UP:
                http_ms.append(elapsed)
                sql_ms.append(parallel)
                serial_ms.append(serial)
    loop.run_until_complete(pool.close())
    loop.run_until_complete(conn.close())
    loop.close()
    http_median, sql_median = statistics.median(http_ms), statistics.median(sql_ms)
    return {
        "http_ms": http_median,
        "sql_ms": sql_median,
        "serial_ms": statistics.median(serial_ms),
        "ratio": http_median / sql_median,
        "http_p90": sorted(http_ms)[int(len(http_ms) * 0.9) - 1],
        "statements": len(statements),
        "per_statement": {name: statistics.median(times) for name, times in per_statement.items()},
        "body": body,
    }


def write(path: Path, groups: int, requests: int, loaded: dict[str, Any], result: dict[str, Any]) -> str:
    import asyncpg

    body = result["body"]
    total = body.get("applications")
    load = (
        f"`tkm demo --scale {groups}` took {loaded['load_seconds']:.0f} s on this machine. "
        if not loaded.get("reused")
        else ""
    )
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, PostgreSQL (asyncpg {asyncpg.__version__}); a dedicated database with "
        f"`tkm demo --scale {groups}` ({groups} groups, {groups * 10} members"
        + (f", {total} applications in all" if total else "")
        + f"). {load}The machine was shared with other work (1-minute load average {LOAD_AT_START:.1f} when "
        "the run began), so expect some noise.",
        "",
        "| what | result | goal |",
        "|---|---|---|",
        f"| GET /api/v1/dashboard over HTTP, national scope, median of {requests} | {result['http_ms']:.0f} ms "
        f"(90th percentile {result['http_p90']:.0f} ms) | < {MEDIAN_GOAL_MS} ms |",
        f"| the same {result['statements']} aggregates as raw SQL, all at once on pooled connections (as the app "
        f"runs them), median | {result['sql_ms']:.0f} ms | |",
        f"| the same aggregates as raw SQL one after another on one connection, median | "
        f"{result['serial_ms']:.0f} ms | |",
        f"| ratio HTTP / raw SQL | {result['ratio']:.2f} | <= {RATIO_GOAL} |",
        "",
        "Raw SQL per statement (median): "
        + ", ".join(f"`{name}` {ms:.0f} ms" for name, ms in result["per_statement"].items())
        + ".",
        "",
        "Run with `make bench-dashboard` (`python -m bench.dashboard --groups 10000`; `--reuse` keeps a",
        "database already loaded). The HTTP side is `tkm serve` (one process) with a real client on a",
        "keep-alive connection, logged in as an auditor (every region); the raw side runs exactly the",
        "statements of `tkm.dashboard.queries.all_queries` for the same scope on asyncpg in the benchmark's",
        "own process, all at once on pooled connections (the ratio's baseline: the app runs them that way)",
        "and one after another. The runs are interleaved so all see the same load. Money figures come from",
        "`ledger_activity` (monthly sums kept beside the ledger in the posting's transaction), not from a",
        "scan of every ledger entry; `tkm verify` checks that table against the entries.",
    ]
    from bench.report import write_section

    return write_section(path, HEADING, "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already has the groups")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)

    data_dir, env = processes.own_installation(
        "tkm-bench-dashboard-",
        {"TKM_DATABASE_URL": external.postgres_url_for(DATABASE, server=BASE_URL), "TKM_LOG_LEVEL": "WARNING"},
    )

    loaded = prepare(args.groups, args.reuse, env)
    password = secrets.token_urlsafe(16)
    asyncio.run(_national_user(password))
    server, url = processes.start_server(env, data_dir)
    try:
        print(f"measuring {args.requests} dashboard requests against {args.requests} raw SQL runs ...", flush=True)
        result = measure(url, password, args.requests)
    finally:
        server.stop()
    print(
        f"  HTTP {result['http_ms']:.0f} ms, raw SQL {result['sql_ms']:.0f} ms, ratio {result['ratio']:.2f}", flush=True
    )
    print(write(args.output, args.groups, args.requests, loaded, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
