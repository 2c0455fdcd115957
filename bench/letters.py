"""Letters benchmark: the renderer against plain WeasyPrint, then Celery with 1 and 2 worker processes.

    .venv/bin/python -m bench.letters [--count 200] [--runs 1] [--batch 500] [--skip-celery]
        [--output docs/benchmarks.md]

1. In one process, render ``count`` approval decrees through the app's renderer
   (Jinja, the locked URL fetcher, the shared FontConfiguration and stylesheet)
   and, interleaved, WeasyPrint alone on the same final HTML with its own
   defaults. Reports the median milliseconds per letter and the ratio
   (goal: <= 1.2).
2. Issue ``count`` decrees into a fresh SQLite database and let real Celery
   workers on the filesystem broker render them, once with one worker process
   and once with two. The time is taken from the documents' own timestamps
   (first render started → last render finished), so worker start-up is not
   counted. Reports the speed-up (goal: >= 1.7 on two cores). With ``--runs N``
   each is run N times and the fastest run counts (the least disturbed by
   other work on a shared machine).
3. With ``--batch N``: N approved groups decided at once, as ``POST /api/v1/approvals`` ends: one collective
   decree whose annex lists the N groups, an extract and a cooperation agreement per group (2N + 1 letters).
   Reports the time to issue them (one transaction) and to render them with two Celery worker processes
   (in this process with ``--skip-celery``), and the decree's pages.

Everything runs in a temporary TKM_DATA_DIR; nothing outside it is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tkm.testing import processes

ROOT = Path(__file__).resolve().parent.parent
RATIO_GOAL = 1.2
LOAD_AT_START = os.getloadavg()[0]
SPEEDUP_GOAL = 1.7


# --- a data set: one approved application in Padang ---------------------------------------------------------------


async def seed() -> int:
    """Rows for one approved application (inserted directly: the benchmark measures letters, not the workflow)."""
    from tkm.auth.tables import User
    from tkm.core import db
    from tkm.documents.tables import Office
    from tkm.programmes.tables import Programme, TrainingCentre
    from tkm.testing import seeding

    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        ketua = User(
            email="ketua@bench.test", name="Siti Rahmawati", password_hash="-", role="applicant", created_at=now
        )
        await ketua.save()
        centre = TrainingCentre(code="BLK-PDG", name="BLK Padang", kind="UPTP", region="13.71", created_at=now)
        await centre.save()
        programme = Programme(
            code="TKM-2020",
            name="TKM Pemula 2020",
            workflow="tkm-pemula",
            fiscal_year=2020,
            budget_ceiling=2_000_000_000,
            max_per_group=25_000_000,
            min_members=5,
            max_members=20,
            regions=json.dumps(["13"]),
            opens_on=dt.date(2020, 3, 1),
            closes_on=dt.date(2020, 12, 31),
            components=json.dumps({"capital": {"max": 15_000_000}, "wages": {"max": 6_000_000}}),
            created_at=now,
        )
        await programme.save()
        ids = await seeding.seed_application(
            int(programme.id),
            int(ketua.id),
            status="approved",
            members=7,
            training_centre=int(centre.id),
            actor_name="Bench",
        )
        await Office(
            code="1371",
            name="Dinas Tenaga Kerja Kota Padang",
            region="13.71",
            letterhead=json.dumps(["Pemerintah Kota Padang", "Dinas Tenaga Kerja"]),
            address="Jl. Bagindo Aziz Chan No. 1, Padang 25111",
            contact="Telepon (0751) 000000 · disnaker@padang.go.id",
            city="Padang",
            signatory_name="Drs. Bench Suryadi, M.Si.",
            signatory_title="Kepala Dinas Tenaga Kerja Kota Padang",
            signatory_nip="197001011995031001",
            numbering_pattern="{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}",
            created_at=now,
            updated_at=now,
        ).save()
    return ids["application_id"]


async def issue_decrees(application_id: int, count: int, tag: str) -> list[int]:
    from tkm.core import db
    from tkm.documents import services

    async with db.transaction():
        return [
            await services.issue("approval_decree", application_id=application_id, context_key=f"bench:{tag}:{i}")
            for i in range(count)
        ]


async def snapshots(ids: list[int]) -> list[dict[str, Any]]:
    from tkm.documents.tables import Document

    rows = await Document.select(Document.context).where(Document.id.is_in(ids)).order_by(Document.id)
    return [json.loads(r["context"]) if isinstance(r["context"], str) else r["context"] for r in rows]


# --- 1. in one process ---------------------------------------------------------------------------------------------


def in_process(contexts: list[dict[str, Any]]) -> dict[str, float]:
    from weasyprint import CSS, HTML

    from tkm.documents.renderer import PDF_VARIANT, STYLESHEET, get_renderer

    renderer = get_renderer()
    for context in contexts[:3]:  # warm up both paths (font discovery, template compilation)
        renderer.render("approval_decree", context)
        HTML(string=renderer.html("approval_decree", context), base_url=renderer.base_url).write_pdf(
            stylesheets=[CSS(filename=str(renderer.letters_dir / STYLESHEET))], pdf_variant=PDF_VARIANT
        )
    app_ms: list[float] = []
    plain_ms: list[float] = []
    for context in contexts:
        start = time.perf_counter()
        renderer.render("approval_decree", context)
        app_ms.append((time.perf_counter() - start) * 1000)
        html = renderer.html("approval_decree", context)  # the same final HTML, made outside the timing
        start = time.perf_counter()
        HTML(string=html, base_url=renderer.base_url).write_pdf(
            stylesheets=[CSS(filename=str(renderer.letters_dir / STYLESHEET))], pdf_variant=PDF_VARIANT
        )
        plain_ms.append((time.perf_counter() - start) * 1000)
    app, plain = statistics.median(app_ms), statistics.median(plain_ms)
    return {"app_ms": app, "plain_ms": plain, "ratio": app / plain, "sign_ms": signing_cost(contexts)}


def signing_cost(contexts: list[dict[str, Any]]) -> float:
    """Median milliseconds to sign one rendered decree (PAdES, the office's development certificate)."""
    from tkm.documents import signing
    from tkm.documents.renderer import get_renderer

    renderer, signer = get_renderer(), signing.get_signer()
    pdfs = [renderer.render("approval_decree", c) for c in contexts[: min(len(contexts), 20)]]
    office = signing.SigningOffice(contexts[0]["office"]["code"], contexts[0]["office"]["name"])
    signer.sign(pdfs[0], office)  # loads the key once
    times = []
    for pdf in pdfs:
        start = time.perf_counter()
        signer.sign(pdf, office)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --- 2. through Celery ---------------------------------------------------------------------------------------------


async def progress(ids: list[int]) -> tuple[int, int, dt.datetime | None, dt.datetime | None]:
    from tkm.documents.tables import Document

    rows = await Document.select(Document.status, Document.render_started_at, Document.rendered_at).where(
        Document.id.is_in(ids)
    )
    ready = [r for r in rows if r["status"] == "ready"]
    failed = sum(1 for r in rows if r["status"] == "failed")
    starts = [r["render_started_at"] for r in rows if r["render_started_at"]]
    ends = [r["rendered_at"] for r in ready]
    return len(ready), failed, min(starts) if starts else None, max(ends) if ends else None


def through_celery(
    loop: asyncio.AbstractEventLoop,
    env: dict[str, str],
    application_id: int,
    count: int,
    concurrency: int,
    logs: Path,
    run: int = 0,
) -> dict[str, float]:
    ids = loop.run_until_complete(issue_decrees(application_id, count, f"celery-{concurrency}-{run}"))
    return render_with_workers(loop, env, ids, concurrency, logs)


def render_with_workers(
    loop: asyncio.AbstractEventLoop, env: dict[str, str], ids: list[int], concurrency: int, logs: Path
) -> dict[str, float]:
    """Let ``concurrency`` Celery worker processes render the issued documents ``ids``; seconds from the first
    render started to the last finished."""
    count = len(ids)
    worker = processes.start_worker(env, logs, concurrency, loglevel="WARNING", prefix="bench")
    try:
        deadline = time.monotonic() + 60 + count * 3
        while time.monotonic() < deadline:
            ready, failed, first, last = loop.run_until_complete(progress(ids))
            if failed:
                raise RuntimeError(f"{failed} documents failed; see {logs}")
            if ready == count:
                break
            if not worker.running():
                raise RuntimeError(f"the worker exited; see {worker.log_path}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"only {ready} of {count} documents were ready in time; see {logs}")
    finally:
        worker.stop(timeout=30)  # a worker stuck in its warm shutdown (the filesystem transport sometimes is) is killed
    seconds = (last - first).total_seconds()
    return {"seconds": seconds, "ms_per_letter": seconds * 1000 / count}


# --- 3. a collective decree ---------------------------------------------------------------------------------------


async def seed_batch(programme_code: str, count: int) -> list[tuple[int, int]]:
    """``count`` approved applications of the programme, each with its approval event: what one collective
    approval leaves before its letters are issued."""
    from tkm.auth.tables import User
    from tkm.core import db
    from tkm.programmes.tables import Programme, TrainingCentre
    from tkm.testing import seeding
    from tkm.workflow import history

    programme = await Programme.select(Programme.id).where(Programme.code == programme_code).first()
    centre = await TrainingCentre.select(TrainingCentre.id).first()
    ketua = await User.select(User.id).where(User.email == "ketua@bench.test").first()
    approved: list[tuple[int, int]] = []
    async with db.transaction():
        for i in range(count):
            ids = await seeding.seed_application(
                int(programme["id"]),
                int(ketua["id"]),
                status="approved",
                group_name=f"Kelompok Usaha Bersama {i + 1:04d}",
                members=7,
                training_centre=int(centre["id"]),
                actor_name="Bench",
            )
            events = await history.events("application", ids["application_id"])
            approved.append((ids["application_id"], int(events[-1]["id"])))
    return approved


async def issue_batch(approved: list[tuple[int, int]]) -> list[int]:
    from tkm.core import db
    from tkm.documents import services

    async with db.transaction():
        issued = await services.issue_collective_decree(approved, region="13.71")
    return [issued["decree"], *issued["extracts"].values(), *issued["agreements"].values()]


async def decree_pages(document_id: int) -> int:
    from pypdf import PdfReader

    from tkm.core.settings import get_settings
    from tkm.documents.tables import Document

    row = await Document.select(Document.file_path).where(Document.id == document_id).first()
    return len(PdfReader(str(get_settings().data_dir / row["file_path"])).pages)


def collective(
    loop: asyncio.AbstractEventLoop, env: dict[str, str], count: int, logs: Path, celery: bool
) -> dict[str, float]:
    from tkm.documents import services

    approved = loop.run_until_complete(seed_batch("TKM-2020", count))
    start = time.perf_counter()
    ids = loop.run_until_complete(issue_batch(approved))
    issue_seconds = time.perf_counter() - start
    if celery:
        rendered = render_with_workers(loop, env, ids, 2, logs)
        seconds = rendered["seconds"]
    else:
        start = time.perf_counter()
        for document_id in ids:
            loop.run_until_complete(services.render(document_id))
        seconds = time.perf_counter() - start
    return {
        "groups": count,
        "letters": len(ids),
        "issue_seconds": issue_seconds,
        "render_seconds": seconds,
        "decree_pages": loop.run_until_complete(decree_pages(ids[0])),
        "workers": 2 if celery else 0,
    }


# --- the report ----------------------------------------------------------------------------------------------------


def write_report(
    path: Path,
    count: int,
    single: dict[str, float],
    runs: dict[int, list[dict[str, float]]] | None,
    batch: dict[str, float] | None = None,
) -> str:
    import weasyprint

    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}; {count} approval decrees "
        f"(4 pages each: decree and annex). The machine was shared with other work (1-minute load average "
        f"{LOAD_AT_START:.1f} when the run began), so expect some noise.",
        "",
        "| what | result | goal |",
        "|---|---|---|",
        f"| app renderer, median per letter | {single['app_ms']:.0f} ms | |",
        f"| plain WeasyPrint on the same HTML, median per letter | {single['plain_ms']:.0f} ms | |",
        f"| ratio app / plain | {single['ratio']:.2f} | <= {RATIO_GOAL} |",
        f"| signing a rendered letter (PAdES), median | {single['sign_ms']:.0f} ms "
        f"({single['sign_ms'] / single['app_ms']:.0%} of its rendering) | |",
    ]
    celery = {c: min(results, key=lambda r: r["seconds"]) for c, results in runs.items()} if runs else None
    if celery:
        one, two = celery[1], celery[2]
        speedup = one["seconds"] / two["seconds"]
        lines += [
            f"| Celery, 1 worker process | {one['seconds']:.1f} s ({one['ms_per_letter']:.0f} ms per letter) | |",
            f"| Celery, 2 worker processes | {two['seconds']:.1f} s ({two['ms_per_letter']:.0f} ms per letter) | |",
            f"| speed-up 2 vs 1 | {speedup:.2f} | >= {SPEEDUP_GOAL} |",
        ]
    if batch:
        where = "2 Celery worker processes" if batch["workers"] else "this process (no Celery)"
        lines += [
            f"| collective SK of {batch['groups']:.0f} groups: issue {batch['letters']:.0f} letters "
            f"(SK, extracts, agreements) | {batch['issue_seconds']:.1f} s | |",
            f"| collective SK of {batch['groups']:.0f} groups: render on {where} | "
            f"{batch['render_seconds']:.1f} s (SK of {batch['decree_pages']:.0f} pages) | |",
        ]
    lines += [
        "",
        "The app renderer includes making the HTML from the frozen context (Jinja, the QR code) and runs",
        "WeasyPrint with the locked URL fetcher, one shared FontConfiguration and the stylesheet parsed once;",
        "the plain run parses the stylesheet for every letter and uses WeasyPrint's own fetcher. The Celery",
        "times run from the first render started to the last render finished (documents' own timestamps), with",
        "real workers on the filesystem broker and SQLite, so worker start-up is not counted"
        + (f"; the fastest of {len(runs[1])} runs counts." if runs and len(runs[1]) > 1 else "."),
        "",
    ]
    if runs and len(runs[1]) > 1:
        lines += [
            "All runs, in order: "
            + "; ".join(
                f"{c} worker{'s' if c > 1 else ''}: " + ", ".join(f"{r['seconds']:.1f} s" for r in results)
                for c, results in runs.items()
            )
            + ".",
            "",
        ]
    from bench.report import write_section

    return write_section(path, "## Letters (`make bench-letters`)", "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.letters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1, help="Celery runs per worker count; the fastest counts")
    parser.add_argument("--skip-celery", action="store_true")
    parser.add_argument("--batch", type=int, default=0, help="groups of one collective decree (0: none)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)

    data_dir, env = processes.own_installation(
        "tkm-bench-letters-", {"TKM_QUEUE": f"bench-letters-{secrets.token_hex(4)}"}
    )

    from tkm import worker
    from tkm.cli import migrate_quietly
    from tkm.core import db
    from tkm.core.settings import load_settings, reset_settings

    settings = load_settings()
    reset_settings(settings)
    migrate_quietly()
    db.configure(settings)
    worker.reconfigure(settings)
    loop = asyncio.new_event_loop()
    application_id = loop.run_until_complete(seed())
    print(f"data in {data_dir}", flush=True)

    ids = loop.run_until_complete(issue_decrees(application_id, args.count, "in-process"))
    contexts = loop.run_until_complete(snapshots(ids))
    print(f"rendering {args.count} decrees in this process ...", flush=True)
    single = in_process(contexts)
    print(f"  app {single['app_ms']:.0f} ms, plain {single['plain_ms']:.0f} ms, ratio {single['ratio']:.2f}")
    print(f"  signing {single['sign_ms']:.0f} ms per letter")

    runs: dict[int, list[dict[str, float]]] | None = None
    if not args.skip_celery:
        # The in-process batch left its render tasks in the queue: clear them so the workers only see their own.
        for path in (settings.broker_dir / "queue").glob("*"):
            path.unlink()
        runs = {1: [], 2: []}
        for run in range(args.runs):
            for concurrency in (1, 2):
                print(f"rendering {args.count} decrees with {concurrency} Celery worker process(es) ...", flush=True)
                result = through_celery(loop, env, application_id, args.count, concurrency, data_dir, run)
                runs[concurrency].append(result)
                print(f"  {result['seconds']:.1f} s")
    batch = None
    if args.batch:
        print(f"issuing and rendering a collective decree of {args.batch} groups ...", flush=True)
        batch = collective(loop, env, args.batch, data_dir, not args.skip_celery)
        print(f"  issue {batch['issue_seconds']:.1f} s, render {batch['render_seconds']:.1f} s")
    print(write_report(args.output, args.count, single, runs, batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
