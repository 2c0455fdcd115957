"""Workflow files are validated at start-up; a typo stops it with the file and key named."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tkm import ROOT
from tkm.workflow.loader import WorkflowError, load_all, parse

PEMULA = (ROOT / "workflows" / "tkm-pemula.toml").read_text()


def test_shipped_workflows_load():
    workflows = load_all(ROOT / "workflows")
    assert set(workflows) >= {"tkm-pemula", "tkm-lanjutan"}
    lanjutan = workflows["tkm-lanjutan"]
    assert "field_verified" in lanjutan.states and "field_verified" not in workflows["tkm-pemula"].states
    assert lanjutan.actions["recommend"].from_states == ("field_verified",)
    assert any(g.name == "completed_grant" for g in lanjutan.actions["submit"].guards)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('to = "approved"', 'to = "aproved"', "actions.approve.to: unknown state 'aproved'"),
        (
            'roles = ["approver"]\nbody.notes = { type = "text", required = false }',
            'roles = []\nbody.notes = { type = "text", required = false }',
            "actions.approve.roles",
        ),
        (
            'roles = ["approver"]\nbody.notes = { type = "text", required = false }',
            'roles = ["aprover"]\nbody.notes = { type = "text", required = false }',
            "actions.approve.roles[0]",
        ),
        ('"stamp_submitted"', '"stamp_submited"', "actions.submit.effects[0]: unknown effect 'stamp_submited'"),
        ('"programme_open"', '"programme_opn"', "actions.submit.guards[0]: unknown guard 'programme_opn'"),
        ('initial = "draft"', 'initial = "draf"', "initial: unknown state 'draf'"),
        ("[states.draft]", "[stats.draft]", "stats: unknown key"),
        ('from = ["active"]\nto = "completed"', 'from = ["active"]\nto = "active"', "states.completed: unreachable"),
        ("weight = 30", "weight = 35", "rubric: weights must add up to 100"),
        ('condition = "on_approval"', 'condition = "on_aproval"', "tranches[0].condition: unknown condition"),
        (
            'body.reasons = { type = "text" }',
            'body.reasons = { type = "txt" }',
            "body.reasons.type: unknown field type",
        ),
        ('name = "tkm-pemula"', 'name = "tkm-pemula-2"', "name: must match the file name"),
        ("[actions.submit]", "[actions.submit", "not valid TOML"),
    ],
)
def test_a_typo_names_the_file_and_key(tmp_path, old, new, key):
    assert old in PEMULA
    path = tmp_path / "tkm-pemula.toml"
    path.write_text(PEMULA.replace(old, new, 1))
    with pytest.raises(WorkflowError) as caught:
        load_all(tmp_path)
    message = str(caught.value)
    assert message.startswith("tkm-pemula.toml: ") and key in message, message


def test_start_up_stops_with_one_line(tmp_path):
    bad = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", bad)
    (bad / "tkm-pemula.toml").write_text(PEMULA.replace('to = "approved"', 'to = "aproved"'))
    env = {"TKM_DATA_DIR": str(tmp_path / "var"), "TKM_WORKFLOWS_DIR": str(bad), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "tkm", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "tkm-pemula.toml: actions.approve.to" in lines[0], result.stderr


def test_parse_reads_one_file_without_the_others(tmp_path):
    path = Path(tmp_path / "tkm-pemula.toml")
    path.write_text(PEMULA)
    workflow = parse(path)
    assert workflow.grant_states() == ["approved", "active"]
    assert sum(c.weight for c in workflow.rubric) == 100
