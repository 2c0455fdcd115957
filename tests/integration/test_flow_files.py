"""Flows are data: a copy of workflows/ whose tranche flow adds a verification step between authorize and pay
(by a third finance officer) changes how payments go, with no change in the code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import settings_env
from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today

ROOT = Path(__file__).resolve().parents[2]

VERIFIED_STATE = """[states.verified]
label = { id = "Diverifikasi bendahara", en = "Verified by the treasurer" }
traits = ["payable"]
[states.paid]"""

VERIFY_ACTION = """[actions.verify]
label = { id = "Verifikasi pembayaran", en = "Verify the payment" }
from = ["authorized"]
to = "verified"
roles = ["finance"]
guards = ["grant_pays_out", { name = "not_same_actor", as_action = ["request", "authorize"] }]

[actions.pay]"""


def with_verification(directory: Path) -> None:
    path = directory / "flows" / "tranche.toml"
    text = path.read_text()
    for old, new in (
        (
            'label = { id = "Diotorisasi", en = "Authorized" }\ntraits = ["payable"]',
            'label = { id = "Diotorisasi", en = "Authorized" }',
        ),
        ("[states.paid]", VERIFIED_STATE),
        ("[actions.pay]", VERIFY_ACTION),
        ('from = ["authorized"]\nto = "paid"', 'from = ["verified"]\nto = "paid"'),
        ('from = ["authorized", "paid"]\nto = "failed"', 'from = ["authorized", "verified", "paid"]\nto = "failed"'),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)


@pytest.fixture(scope="module")
def env(database, tmp_path_factory, secret_key):
    flows = tmp_path_factory.mktemp("workflows")
    shutil.copytree(ROOT / "workflows", flows, dirs_exist_ok=True)
    with_verification(flows)
    return {**settings_env(database, tmp_path_factory.mktemp("data"), secret_key), "TKM_WORKFLOWS_DIR": str(flows)}


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.finance3 = w.api.make_user("finance", ["13"])
    return w


def act(world, tranche, action, user, body=None):
    return world.post(f"/api/v1/tranches/{tranche['id']}/actions/{action}", user, body or {})


def test_payments_need_the_third_step_of_the_file(world):
    app = world.to_state(world.new_application()["id"], "active")
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
        if t["due_condition"] == "on_approval"
    )
    assert act(world, tranche, "request", world.finance).status_code == 200
    assert act(world, tranche, "authorize", world.finance2).status_code == 200
    pay = {"transfer_reference": "BRI-VERIF-1", "paid_at": today().isoformat()}

    r = act(world, tranche, "pay", world.finance, pay)
    assert r.status_code == 409 and r.json()["current_status"] == "authorized", r.text
    for officer in (world.finance, world.finance2):  # the requester and the authorizer may not verify
        r = act(world, tranche, "verify", officer)
        assert r.status_code == 403, r.text
    r = act(world, tranche, "verify", world.finance3)
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text

    # The payment batch follows the file's trait: the verified tranche waits for the bank, the others do not.
    batch = world.get("/api/v1/payment-batches?format=json", world.finance).json()["items"]
    assert [t["id"] for t in batch] == [tranche["id"]]

    r = act(world, tranche, "pay", world.finance, pay)
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text
    totals = world.get(f"/api/v1/applications/{app['id']}/funds-trail", world.finance).json()["totals"]
    assert totals["disbursed"] == tranche["amount"]

    history = [(e["action"], e["to"]) for e in _tranche(world, tranche)["history"]]
    assert history == [("request", "requested"), ("authorize", "authorized"), ("verify", "verified"), ("pay", "paid")]


def _tranche(world, tranche):
    """The tranche with its history, as the finance page reads it."""
    from tkm.auth.roles import CurrentUser
    from tkm.disbursement import services

    user = world.finance
    actor = CurrentUser(user["id"], user["email"], user["email"], user["role"], ("13",))
    return world.api.call(services.get_tranche, tranche["id"], actor)
