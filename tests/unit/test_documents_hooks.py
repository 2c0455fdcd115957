"""A workflow file that asks issue_letter for a kind it cannot issue stops start-up, naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workflows(tmp_path):
    from tkm.workflow import loader

    shutil.copytree(ROOT / "workflows", tmp_path, dirs_exist_ok=True)
    yield tmp_path
    loader.load_all(ROOT / "workflows")


def test_the_shipped_workflows_pass(workflows):
    from tkm.documents import hooks
    from tkm.workflow import loader

    loader.load_all(workflows)
    hooks.startup(None)
    approve = loader.get("tkm-pemula").actions["approve"]
    assert approve.effects[-1].name == "issue_letter" and approve.effects[-1].params == {"kind": "approval_decree"}


@pytest.mark.parametrize("kind", ["payment_order", "surat_cinta"])
def test_an_unknown_or_unissuable_kind_stops_start_up(workflows, kind):
    from tkm.documents import hooks
    from tkm.workflow import loader

    path = workflows / "tkm-pemula.toml"
    path.write_text(path.read_text().replace('kind = "rejection_letter"', f'kind = "{kind}"'))
    loader.load_all(workflows)
    with pytest.raises(loader.WorkflowError, match=r"tkm-pemula\.toml: actions\.reject\.effects\[1\]: issue_letter"):
        hooks.startup(None)
