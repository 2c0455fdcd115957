"""The ``tkm`` command: run, serve, worker, beat, migrate, user add, demo, verify."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import click

from tkm.core.settings import SettingsError, get_settings, reset_settings


def _settings_or_exit(check_workflows: bool = False) -> Any:
    """The settings, or one line naming what is wrong (also a broken workflow file or a failed start-up check)
    and exit 2."""
    from tkm.workflow.loader import WorkflowError, load_all

    try:
        settings = get_settings()
        if check_workflows:
            load_all(settings.workflows_dir)
            from tkm import domains

            # The domains' start-up checks (e.g. a production signing certificate) refuse here in one line,
            # before the web server or the worker starts.
            domains.run_startup_checks(settings)
        return settings
    except (SettingsError, WorkflowError) as exc:
        click.echo(f"tkm: {exc}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """TKM: the Tenaga Kerja Mandiri grant workflow."""
    from tkm.core.i18n import set_language

    # Messages follow the terminal's locale (LANG=en_US.UTF-8 for English); Indonesian otherwise.
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    set_language("en" if locale.startswith("en") else "id")


# --- database ---------------------------------------------------------------------------------------------------


async def _migrate() -> list[str]:
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    from tkm.core import db, migration_bridge

    db.configure()
    await Migration.create_table(if_not_exists=True)
    # A database of the migrations before the baseline is converted first (stderr: stdout is Piccolo's chatter).
    try:
        converted = await migration_bridge.bring_forward()
    except migration_bridge.EarlierSchema as exc:
        raise click.ClickException(str(exc)) from None
    if converted:
        click.echo(converted, err=True)
    before = {m["name"] for m in await Migration.select(Migration.name)}
    result = await run_forwards(app_name="tkm")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")
    after = [m["name"] for m in await Migration.select(Migration.name).order_by(Migration.id)]
    from tkm.core import checkpoints

    await checkpoints.first()
    return [name for name in after if name not in before]


def migrate_quietly() -> list[str]:
    import contextlib
    import io

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            return asyncio.run(_migrate())
    except Exception:
        if buffer.getvalue():
            click.echo(buffer.getvalue(), err=True)
        raise


@main.command()
def migrate() -> None:
    """Apply database migrations (safe to run again: it changes nothing the second time)."""
    settings = _settings_or_exit()
    applied = migrate_quietly()
    where = settings.database_kind
    if applied:
        click.echo(f"Applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        click.echo(f"Database ({where}) is up to date; nothing to apply.")


# --- users ------------------------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, help="applicant, reviewer, approver, finance, auditor or admin")
@click.option("--region", "regions", multiple=True, help="Region code the user works in (repeatable), e.g. 13.71")
@click.option("--name", default=None, help="Full name (default: the part of the e-mail before @)")
@click.option("--phone", default="", help="Phone number")
def user_add(email: str, role: str, regions: tuple[str, ...], name: str | None, phone: str) -> None:
    """Add a user; the password is read from stdin, or asked for at a prompt."""
    _settings_or_exit()
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise click.ClickException("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    from tkm.auth import services
    from tkm.core import db
    from tkm.core.errors import Problem

    async def _add() -> Any:
        db.configure()
        return await services.create_user(
            None, email, name or email.split("@")[0], password, role, list(regions), phone
        )

    try:
        created = asyncio.run(_add())
    except Problem as problem:
        for err in problem.errors or []:
            click.echo(f"tkm: {err.field}: {err.message}", err=True)
        if not problem.errors:
            click.echo(f"tkm: {problem.detail}", err=True)
        sys.exit(1)
    click.echo(f"Added {created.email} as {created.role} (id {created.id}).")


@main.command("office-certificate")
@click.argument("office")
@click.argument("p12", type=click.Path(exists=True, dir_okay=False, readable=True))
def office_certificate(office: str, p12: str) -> None:
    """Load OFFICE's own signing certificate (a PKCS#12 file); the password is read from stdin or a prompt.

    Works before the first production start (which needs a certificate)."""
    _settings_or_exit()
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    from pathlib import Path

    from tkm.core import db
    from tkm.core.errors import Problem
    from tkm.documents import certificates

    content = Path(p12).read_bytes()

    async def _load() -> Any:
        db.configure()
        await db.open_pool()
        try:
            return await certificates.load_certificate(None, office, content, password)
        finally:
            await db.close_pool()

    try:
        loaded = asyncio.run(_load())
    except Problem as problem:
        for err in problem.errors or []:
            click.echo(f"tkm: {err.field}: {err.message}", err=True)
        if not problem.errors:
            click.echo(f"tkm: {problem.detail}", err=True)
        sys.exit(1)
    cert = loaded["certificate"]
    click.echo(f"Office {loaded['office']} signs with {cert['subject']} (valid until {cert['not_after'][:10]}).")


# --- integrity --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--checkpoint", is_flag=True, help="When everything holds, also write a signed checkpoint of the chains")
def verify(checkpoint: bool) -> None:
    """Check the hash chains against their key and the checkpoints, tranches and budgets against the funds
    trail, files against their hashes; exits non-zero with one line per broken check, naming the record."""
    _settings_or_exit()
    from tkm.core import checkpoints, db

    async def _verify() -> tuple[list[tuple[str, Any]], dict[str, Any] | None]:
        db.configure()
        results = []
        from tkm.core.domain import resolve
        from tkm.domains import checks

        for label, target in checks():
            results.append((label, await resolve(target)()))
        # Only a whole database is checkpointed: a checkpoint of a broken one would vouch for the break.
        written = await checkpoints.write() if checkpoint and not any(b for _l, b in results) else None
        return results, written

    results, written = asyncio.run(_verify())
    failed = False
    for label, broken in results:
        if broken:
            failed = True
            click.echo(f"BROKEN {label}: {broken}")
        else:
            click.echo(f"ok     {label}")
    if written:
        click.echo(f"Checkpoint {written['name']} written: {written['signature']}")
    elif checkpoint:
        click.echo("No checkpoint written: the database does not verify.", err=True)
    sys.exit(1 if failed else 0)


# --- processes --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web server processes")
def serve(host: str, port: int, workers: int) -> None:
    """Run the web server only."""
    _base_url_from(host, port)
    _settings_or_exit(check_workflows=True)
    import uvicorn

    uvicorn.run(
        "tkm.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        access_log=True,
    )


def _base_url_from(host: str, port: int) -> None:
    """Without TKM_BASE_URL, letters' QR codes and links point at the address this command serves (the
    worker and scheduler that ``run`` starts inherit it)."""
    if os.environ.get("TKM_BASE_URL"):
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    os.environ["TKM_BASE_URL"] = f"http://{shown}:{port}"
    reset_settings()


def _worker_argv(concurrency: int | None) -> list[str]:
    from tkm.worker import queue_name

    settings = get_settings()
    return [
        "worker",
        "--loglevel=INFO",
        "-Q",
        queue_name(),
        "--pool=prefork",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        f"--max-tasks-per-child={settings.worker_max_tasks_per_child}",
        "--without-mingle",
        "--without-gossip",
    ]


@main.command()
@click.option("--concurrency", default=None, type=int, help="Worker processes (default TKM_WORKER_CONCURRENCY)")
def worker(concurrency: int | None) -> None:
    """Run a Celery worker (renders letters, sends mail, drains the outbox)."""
    _settings_or_exit(check_workflows=True)
    from tkm.worker import celery_app

    celery_app.worker_main(argv=_worker_argv(concurrency))


@main.command()
def beat() -> None:
    """Run the scheduler (reminders, outbox drain, document sweeper)."""
    _settings_or_exit()
    from tkm.worker import celery_app

    celery_app.start(argv=["beat", "--loglevel=INFO"])


def _wait_for_http(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10):  # noqa: S310 (our own local URL)
                return True
        except Exception:
            time.sleep(0.3)
    return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load demo data on the first run")
def run(host: str, port: int, no_demo: bool) -> None:
    """Web + worker + scheduler in one (the embedded default). Ctrl-C stops all three."""
    _base_url_from(host, port)
    settings = _settings_or_exit(check_workflows=True)
    applied = migrate_quietly()
    if applied:
        click.echo(f"Database ready ({settings.database_kind}, {len(applied)} migration(s) applied).")
    if not no_demo:
        from tkm.demo.logins import ensure_demo_logins

        logins = ensure_demo_logins()
        if logins:
            click.echo("\nDemo logins (also in %s):" % (settings.data_dir / "demo-logins.txt"))
            for role, email, password in logins:
                click.echo(f"  {role:<10} {email:<28} {password}")
        from tkm.demo.load import load_demo

        # First run (no demo programme yet): the demo data set; later runs say nothing.
        loaded = load_demo(quiet_if_loaded=True)
        if loaded:
            click.echo("\n" + loaded)
    exe = [sys.executable, "-m", "tkm"]
    env = {**os.environ, "TKM_DATA_DIR": str(settings.data_dir)}
    procs = {
        "web": subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], env=env),
        "worker": subprocess.Popen([*exe, "worker"], env=env),
        "beat": subprocess.Popen([*exe, "beat"], env=env),
    }
    stopping = False

    def _stop(*_args: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    url = f"http://{shown_host}:{port}/"
    if _wait_for_http(url + "health", 60):
        click.echo(f"\nTKM is running at {url}  (Ctrl-C stops web, worker and scheduler)\n")
    exit_code = 0
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    click.echo(
                        f"tkm: the {name} process stopped (exit {proc.returncode}); stopping the rest.", err=True
                    )
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        click.echo("TKM stopped.")
    sys.exit(exit_code)


@main.command()
@click.option("--scale", default=0, type=click.IntRange(min=0), help="Also make this many extra groups (benchmarks)")
def demo(scale: int) -> None:
    """Load the demo data set (users for every role, training centres, programmes, groups, applications in every
    state, paid tranches, accepted reports); a second run changes nothing. --scale N adds N groups for benchmarks."""
    _settings_or_exit()
    migrate_quietly()
    from tkm.demo.load import load_demo
    from tkm.demo.logins import ensure_demo_logins

    for role, email, password in ensure_demo_logins():
        click.echo(f"  {role:<10} {email:<28} {password}")
    click.echo(load_demo(scale))
