"""Flows and their traits: what the loader refuses, and that the code asks traits rather than state names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tkm.workflow.loader import WorkflowError, load_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workflows(tmp_path):
    from tkm.workflow import loader

    copy = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", copy)
    yield copy
    loader.load_all(ROOT / "workflows")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_shipped_flows_load_with_the_traits_the_code_needs():
    from tkm.workflow import loader

    load_all(ROOT / "workflows")
    tranche, report = loader.flow("tranche"), loader.flow("report")
    assert tranche.initial == "planned" and tranche.states_with("paid") == ("paid",)
    assert tranche.states_with("payable") == ("authorized",)
    assert report.states_with("accepted") == ("accepted",) and report.created_action == "submit"
    pemula = loader.get("tkm-pemula")
    assert pemula.states_with("pays_out") == ("active",)
    assert set(pemula.states_with("final")) == {"rejected", "withdrawn", "completed", "terminated"}
    assert tranche.actions["freeze"].internal and not tranche.actions["pay"].internal
    assert loader.states_with("application", "reports_due") == ["active"]


@pytest.mark.parametrize(
    ("file", "old", "new", "trait"),
    [
        ("tkm-pemula.toml", '"holds_grant", "pays_out", ', '"holds_grant", ', "pays_out"),
        ("tkm-lanjutan.toml", '"final", "grant_completed", ', '"final", ', "grant_completed"),
        ("flows/tranche.toml", 'traits = ["paid"]\n', "", "paid"),
        ("flows/report.toml", 'traits = ["accepted"]\n', "", "accepted"),
    ],
)
def test_a_missing_trait_stops_start_up_with_one_line(workflows, tmp_path, file, old, new, trait):
    _edit(workflows / file, old, new)
    with pytest.raises(WorkflowError, match=rf"^{re.escape(file)}: states: no state has the trait '{trait}'"):
        load_all(workflows)
    env = {"TKM_DATA_DIR": str(tmp_path / "var"), "TKM_WORKFLOWS_DIR": str(workflows), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "tkm", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert file in lines[0] and f"'{trait}'" in lines[0], lines[0]


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("flows/tranche.toml", 'traits = ["paid"]', 'traits = ["payd"]', "states.paid.traits[0]: unknown trait 'payd'"),
        ("flows/tranche.toml", 'record = "tranche"', 'record = "trench"', "record: unknown record kind 'trench'"),
        ("flows/report.toml", 'to = "accepted"', 'to = "acepted"', "actions.accept.to: unknown state 'acepted'"),
        ("flows/tranche.toml", "internal = true", "internal = true\nuploads = []", "actions.freeze.uploads"),
        ("tkm-pemula.toml", 'traits = ["editable"]', 'traits = ["paid"]', "unknown trait 'paid' for a application"),
    ],
)
def test_flow_files_are_checked_like_workflows(workflows, file, old, new, message):
    _edit(workflows / file, old, new)
    with pytest.raises(WorkflowError) as caught:
        load_all(workflows)
    assert str(caught.value).startswith(f"{file}: ") and message in str(caught.value), caught.value


def test_every_record_kind_needs_its_flow_file(workflows):
    (workflows / "flows" / "report.toml").unlink()
    with pytest.raises(WorkflowError, match="no flow file for report records"):
        load_all(workflows)


# --- the code asks traits, never state names ----------------------------------------------------------------------

#: Where state names may be written: the flows themselves, migrations, the demo data and tests.
ALLOWED = ("tkm/migrations/", "tkm/demo/", "tkm/core/migration_bridge.py", "tkm/testing/")


def _state_names() -> set[str]:
    from tkm.workflow import loader

    load_all(ROOT / "workflows")
    return {s for flow in loader.all_flows() for s in flow.states}


def test_no_code_compares_a_status_with_a_state_name():
    names = "|".join(sorted(_state_names(), key=len, reverse=True))
    quoted = rf"""["'](?:{names})["']"""
    patterns = [
        re.compile(rf"status\W{{0,3}}\s*(?:==|!=)\s*{quoted}"),  # status == "paid", ["status"] != "active"
        re.compile(rf"status\s*(?:not\s+)?in\s*[(\[{{]\s*{quoted}"),  # status in ("planned", ...)
        re.compile(rf"status\.(?:is_in|not_in)\(\s*\[?\s*{quoted}"),  # Tranche.status.is_in(["paid"])
        re.compile(rf"status\s*(?:=|<>|IN\s*\()\s*'(?:{names})'", re.IGNORECASE),  # SQL: status = 'accepted'
    ]
    found = []
    for path in [*(ROOT / "tkm").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(p.search(line) for p in patterns):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "ask the flow for a trait instead:\n" + "\n".join(found)


def test_the_check_above_sees_a_comparison():
    names = "|".join(sorted(_state_names(), key=len, reverse=True))
    assert re.search(rf"""status\W{{0,3}}\s*(?:==|!=)\s*["'](?:{names})["']""", 'if app["status"] != "active":')
