"""`tkm run` (what `make run` starts) in an empty folder: migrates, prints demo logins, serves, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tkm.testing import processes

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_tkm_run_in_an_empty_folder(tmp_path):
    port = processes.free_port()
    env = processes.tkm_env({"TKM_DATA_DIR": str(tmp_path / "var")})
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tkm", "run", "--port", str(port)],
        env=env,
        cwd=processes.ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        health = None
        deadline = time.monotonic() + 60  # the acceptance bar: healthy within a minute, demo data included
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=3) as r:
                    health = json.loads(r.read())
                if health["workers"] >= 1:
                    break
            except OSError:  # not listening yet
                health = None
            time.sleep(0.5)
        output = ""
        deadline = time.monotonic() + 20
        while "TKM is running" not in output and time.monotonic() < deadline:
            time.sleep(0.2)
            log.seek(0)
            output = log.read()
        assert health == {"database": "ok", "broker": "ok", "workers": health and health["workers"]}, output
        assert health["workers"] >= 1, output
        assert f"TKM is running at http://127.0.0.1:{port}/" in output
        assert "Demo data loaded: 3 training centres, 2 programmes, 14 groups" in output, output

        logins = re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)$", output, re.M)
        roles = {role for role, _email, _pw in logins}
        assert {"applicant", "reviewer", "approver", "finance", "auditor", "admin"} <= roles, output
        _role, email, password = next(login for login in logins if login[0] == "reviewer")
        request = urllib.request.Request(
            url + "/api/v1/auth/login",
            method="POST",
            data=json.dumps({"email": email, "password": password}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            body = json.loads(r.read())
        assert body["user"]["role"] == "reviewer" and body["token"]

        children = _children(proc.pid)
        assert len(children) == 3
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(c) for c in children), "web, worker and beat all stop"
        log.seek(0)
        assert "TKM stopped." in log.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
