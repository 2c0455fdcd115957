"""Real processes for tests and benchmarks: ``tkm`` commands, a Celery worker, the web server.

Each child gets the TKM_* variables it is given and none of this process's own (TKM_TEST_* pass through),
runs from the project folder, and is started in a session of its own so that stopping it stops its children.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tkm_env(settings_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TKM_") or k.startswith("TKM_TEST_")}
    env.update(settings_env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_tkm(
    args: list[str], settings_env: dict[str, str], input_text: str | None = None, timeout: float | None = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m tkm <args>`` to its end; the output is captured (``timeout=None`` waits as long as it takes)."""
    return subprocess.run(
        [sys.executable, "-m", "tkm", *args],
        env=tkm_env(settings_env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """``sig`` to the whole process group; one still there after ``timeout`` seconds is killed."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL, timeout=10)


def start(name: str, argv: list[str], settings_env: dict[str, str], log_dir: Path) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{time.time_ns()}.log"
    with log_path.open("wb") as fh:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            argv, env=tkm_env(settings_env), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Proc(name, popen, log_path)


def start_worker(
    settings_env: dict[str, str],
    log_dir: Path,
    concurrency: int = 1,
    pool: str = "prefork",
    *,
    loglevel: str = "INFO",
    prefix: str = "test",
) -> Proc:
    """A Celery worker on the queue ``TKM_QUEUE`` of ``settings_env`` (its own name, no mingle or gossip)."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tkm.worker:celery_app",
        "worker",
        f"--loglevel={loglevel}",
        "-Q",
        settings_env["TKM_QUEUE"],
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "--without-mingle",
        "--without-gossip",
        "-n",
        f"{prefix}-{concurrency}-{time.time_ns()}@%h",
    ]
    return start("worker", argv, settings_env, log_dir)


def wait_for_workers(celery_app: object, count: int, timeout: float, proc: Proc | None = None) -> int:
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{proc.log()[-4000:]}")
        try:
            seen = len(celery_app.control.ping(timeout=0.5) or [])  # type: ignore[attr-defined]
        except Exception:
            seen = 0
        if seen >= count:
            return seen
        time.sleep(0.3)
    raise RuntimeError(
        f"only {seen} of {count} workers answered within {timeout}s:\n" + (proc.log()[-4000:] if proc else "")
    )


def wait_for_health(url: str, proc: Proc, timeout: float = 60) -> None:
    """Until ``url``/health answers at all (503 too: the broker may be down on purpose); stops ``proc`` if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited early:\n{proc.log()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):  # noqa: S310 - our own server
                return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.3)
    proc.stop()
    raise RuntimeError(f"{proc.name} did not answer within {timeout:.0f}s:\n{proc.log()[-4000:]}")


def start_server(settings_env: dict[str, str], log_dir: Path, port: int | None = None) -> tuple[Proc, str]:
    """``tkm serve`` on a free port, once it answers; returns the process and its base URL."""
    port = port or free_port()
    proc = start("web", [sys.executable, "-m", "tkm", "serve", "--port", str(port)], settings_env, log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, proc)
    return proc, url


def own_installation(prefix: str, settings: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A fresh TKM_DATA_DIR (a new temporary folder) with ``settings``, made this process's environment too.

    For benchmarks: they and the processes they start see exactly these TKM_* variables and no others.
    Returns the folder and the environment for child processes.
    """
    import tempfile

    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TKM_")}
    env |= {"TKM_DATA_DIR": str(data_dir), "TKM_ENV": "development", **settings}
    os.environ.update(env)
    for key in [k for k in os.environ if k.startswith("TKM_") and k not in env]:
        del os.environ[key]
    return data_dir, env
