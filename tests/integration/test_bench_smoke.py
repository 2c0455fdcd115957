"""The letters benchmark still runs end to end (on a handful of letters): benchmarks are not in the test
path otherwise, and one that no longer starts measures nothing. No timing is asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_letters_benchmark_runs_on_a_few_letters(tmp_path):
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TKM_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.letters",
            "--count",
            "3",
            "--batch",
            "3",
            "--skip-celery",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    text = output.read_text(encoding="utf-8")
    assert "## Other\n\nkept" in text  # only its own section is rewritten
    assert "| ratio app / plain |" in text
    assert "app renderer, median per letter" in text
    assert "collective SK of 3 groups: issue 7 letters" in text and "render on this process" in text


def test_trail_export_benchmark_runs_on_a_few_groups(tmp_path):
    from tkm.testing import external

    external.require_postgres()
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    database = f"tkm_bench_trail_smoke_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TKM_")}
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.trail_export",
                "--groups",
                "5",
                "--database",
                database,
                "--output",
                str(output),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        external.drop_postgres_database(database)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    text = output.read_text(encoding="utf-8")
    assert "## Other\n\nkept" in text  # only its own section is rewritten
    assert "GET /api/v1/funds-trail?format=csv over HTTP" in text and "| ratio to its baseline |" in text
