"""Whole funds-trail export benchmark: GET /api/v1/funds-trail as CSV and XLSX against raw asyncpg + csv.

    .venv/bin/python -m bench.trail_export [--groups 34000] [--reuse] [--output docs/benchmarks.md]

1. Creates a dedicated PostgreSQL database (``tkm_bench_trail`` on the server of
   ``TKM_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``), migrates it and
   loads ``tkm demo --scale N`` (with ``--reuse``, an existing database with N scale groups is kept).
2. Starts ``tkm serve`` on it and logs in over HTTP as an auditor (every region).
3. Downloads the whole trail as CSV and then as XLSX over HTTP (the body is read as it streams and
   thrown away), and records each download's time and the server's peak resident memory during it
   (``VmHWM`` of ``/proc/<pid>/status``, reset through ``clear_refs`` before each download) above its
   resident memory before it.
4. Baselines in this process: the same entries (every ledger entry of an application on the trail's
   accounts, with its transaction, account and group) read by raw asyncpg with a server-side cursor and
   written with the csv module to a temporary file; and the same rows written to an openpyxl write-only
   workbook without formats (XLSX baseline). Reports the times, memory and ratios.

No timing is asserted anywhere; the numbers go to docs/benchmarks.md (its "Funds trail export" section only).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.dashboard import _scale_groups
from tkm.testing import external, processes

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "tkm_bench_trail"
BASE_URL = os.environ.get("TKM_BENCH_POSTGRES_URL", external.POSTGRES_URL)
LOAD_AT_START = os.getloadavg()[0]
HEADING = "## Funds trail export (`make bench-trail-export`)"
USER = "inspektorat@bench.tkm.test"
#: What the whole trail reads, as one raw statement (the baseline's rows).
RAW_SQL = (
    "SELECT e.application_id, g.name AS group_name, a.region, t.at, e.txn, t.kind, acc.name, acc.component, "
    "e.amount, t.reference, t.actor_name, t.reverses, t.memo FROM ledger_entries e "
    "JOIN applications a ON a.id = e.application_id JOIN groups g ON g.id = a.group_id "
    "JOIN ledger_accounts acc ON acc.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
    "WHERE acc.name IN ('committed', 'disbursed', 'expense', 'revenue', 'reinvestment') "
    "ORDER BY e.application_id, e.seq"
)


def _tkm(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = processes.run_tkm(args, env, timeout=None)
    if result.returncode != 0:
        raise SystemExit(f"tkm {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started, result.stdout


def prepare(database: str, groups: int, reuse: bool, env: dict[str, str]) -> dict[str, Any]:
    url = env["TKM_DATABASE_URL"]
    have = asyncio.run(_scale_groups(url))
    if reuse and have == groups:
        print(f"reusing {database} ({have} scale groups)", flush=True)
        return {"reused": True}
    external.drop_postgres_database(database, server=BASE_URL)
    external.create_postgres_database(name=database, server=BASE_URL)
    _tkm(["migrate"], env)
    print(f"loading tkm demo --scale {groups} into {database} ...", flush=True)
    seconds, _output = _tkm(["demo", "--scale", str(groups)], env)
    print(f"  {seconds:.0f} s", flush=True)
    return {"reused": False, "load_seconds": seconds}


async def _auditor(password: str) -> None:
    from tkm.auth import services
    from tkm.auth.passwords import hash_password
    from tkm.auth.tables import User
    from tkm.core import db

    db.configure()
    if not await User.exists().where(User.email == USER):
        await services.create_user(None, USER, "Inspektorat Jenderal", password, "auditor", [], "")
    else:
        await User.update({User.password_hash: hash_password(password)}).where(User.email == USER)


# --- memory ---------------------------------------------------------------------------------------------------


def _status_kb(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak(pid: int | str) -> None:
    """Linux: writing 5 to clear_refs resets the peak resident set (VmHWM) to the current one."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _entries(url: str) -> int:
    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT COUNT(*) FROM ledger_entries"))
        finally:
            await conn.close()

    return asyncio.run(count())


# --- the two sides ----------------------------------------------------------------------------------------------


def download(url: str, headers: dict[str, str], params: dict[str, str], pid: int) -> dict[str, Any]:
    """One export over HTTP, streamed and discarded; its time, size and the server's memory above its start."""
    import httpx

    before = _status_kb(pid, "VmRSS")
    _reset_peak(pid)
    size = lines = 0
    started = time.perf_counter()
    with (
        httpx.Client(base_url=url, timeout=3600) as client,
        client.stream("GET", "/api/v1/funds-trail", params=params, headers=headers) as response,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    peak = _status_kb(pid, "VmHWM")
    return {"seconds": seconds, "bytes": size, "lines": lines, "rss_mb": before / 1024, "peak_mb": peak / 1024}


def raw(database_url: str, kind: str) -> dict[str, Any]:
    """The baseline: the same rows by raw asyncpg (server-side cursor), written by csv or plain openpyxl."""
    import asyncpg
    from openpyxl import Workbook

    before = _status_kb("self", "VmRSS")
    _reset_peak("self")

    async def run(write: Any) -> int:
        conn = await asyncpg.connect(database_url)
        count = 0
        try:
            async with conn.transaction():
                async for r in conn.cursor(RAW_SQL, prefetch=2000):
                    write(list(r.values()))
                    count += 1
        finally:
            await conn.close()
        return count

    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as handle:
        if kind == "csv":
            writer = csv.writer(handle)
            rows = asyncio.run(run(writer.writerow))
        else:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("trail")
            rows = asyncio.run(
                run(
                    lambda row: sheet.append([v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in row])
                )
            )
            with tempfile.TemporaryFile() as target:
                workbook.save(target)
    seconds = time.perf_counter() - started
    peak = _status_kb("self", "VmHWM")
    return {"seconds": seconds, "rows": rows, "rss_mb": before / 1024, "peak_mb": peak / 1024}


def write(path: Path, groups: int, entries: int, loaded: dict[str, Any], results: dict[str, Any]) -> str:
    import asyncpg

    load = f"`tkm demo --scale {groups}` took {loaded['load_seconds']:.0f} s. " if not loaded.get("reused") else ""

    def row(what: str, r: dict[str, Any], base: dict[str, Any] | None = None) -> str:
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else ""
        return (
            f"| {what} | {r['seconds']:.1f} s | {r['peak_mb'] - r['rss_mb']:.0f} MB "
            f"(peak {r['peak_mb']:.0f} MB) | {ratio} |"
        )

    csv_http, xlsx_http = results["csv"], results["xlsx"]
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, PostgreSQL (asyncpg {asyncpg.__version__}); a dedicated database with "
        f"`tkm demo --scale {groups}` ({entries:,} ledger entries; the whole trail has "
        f"{csv_http['lines'] - 1:,} lines). {load}The machine was shared with other work (1-minute load "
        f"average {LOAD_AT_START:.1f} when the run began), so expect some noise.",
        "",
        "| what | time | memory above the start (peak resident) | ratio to its baseline |",
        "|---|---|---|---|",
        row(
            "GET /api/v1/funds-trail?format=csv over HTTP, auditor (every region), server process",
            csv_http,
            results["raw_csv"],
        ),
        row(
            "baseline: the same entries by raw asyncpg (server-side cursor) written with the csv module",
            results["raw_csv"],
        ),
        row("GET /api/v1/funds-trail?format=xlsx over HTTP, server process", xlsx_http, results["raw_xlsx"]),
        row("baseline: the same entries by raw asyncpg into a plain openpyxl write-only workbook", results["raw_xlsx"]),
        "",
        f"Downloads: CSV {csv_http['bytes'] / 2**20:.0f} MiB, XLSX {xlsx_http['bytes'] / 2**20:.0f} MiB; "
        f"the baseline read {results['raw_csv']['rows']:,} rows (every entry on a trail account; the trail shows",
        "the ones that are lines). The server reads the ledger in keyset batches of 2,000 lines, writes the CSV",
        "as it reads and the XLSX with openpyxl's write-only mode to a temporary file, so its memory stays",
        "flat however long the trail is; the export does more than the baseline per line (words for codes in",
        "the reader's language, running balances, formula-safe text, number and date formats in the XLSX).",
        "",
        "Run with `make bench-trail-export` (`python -m bench.trail_export --groups 34000`; `--reuse` keeps a",
        "database already loaded). Memory is `VmHWM` of the process (reset through `/proc/<pid>/clear_refs`",
        "before each run) minus its `VmRSS` just before.",
    ]
    from bench.report import write_section

    return write_section(path, HEADING, "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trail_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=34_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already has the groups")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--database", default=DATABASE, help="the PostgreSQL database to (re)create and load")
    args = parser.parse_args(argv)

    database_url = external.postgres_url_for(args.database, server=BASE_URL)
    data_dir, env = processes.own_installation(
        "tkm-bench-trail-", {"TKM_DATABASE_URL": database_url, "TKM_LOG_LEVEL": "WARNING"}
    )
    loaded = prepare(args.database, args.groups, args.reuse, env)
    entries = _entries(database_url)
    password = secrets.token_urlsafe(16)
    asyncio.run(_auditor(password))
    server, url = processes.start_server(env, data_dir)
    results: dict[str, Any] = {}
    try:
        import httpx

        login = httpx.post(f"{url}/api/v1/auth/login", json={"email": USER, "password": password}, timeout=60)
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        for kind in ("csv", "xlsx"):
            print(f"exporting the whole trail as {kind} ...", flush=True)
            results[kind] = download(url, headers, {"format": kind}, server.popen.pid)
            print(f"  {results[kind]['seconds']:.1f} s, peak {results[kind]['peak_mb']:.0f} MB", flush=True)
    finally:
        server.stop()
    for kind in ("csv", "xlsx"):
        print(f"baseline ({kind}) ...", flush=True)
        results[f"raw_{kind}"] = raw(database_url, kind)
        print(f"  {results[f'raw_{kind}']['seconds']:.1f} s", flush=True)
    print(write(args.output, args.groups, entries, loaded, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
