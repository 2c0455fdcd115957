"""On PostgreSQL, through a real server: 50 concurrent pay calls on one tranche.

Same Idempotency-Key: exactly one payment and 50 identical responses. Different keys: one succeeds,
the other 49 get 409 and no money moves twice.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today

pytestmark = pytest.mark.slow
CALLS = 50


@pytest.fixture(scope="module")
def database(postgres_database):
    return postgres_database


def authorized_tranche(world, name):
    group = world.make_group(world.applicant, name=name)
    app = world.to_state(world.new_application(group=group)["id"], "active")
    tranche = next(
        t
        for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json()
        if t["due_condition"] == "on_approval"
    )
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/request", world.finance, {}).status_code == 200
    assert world.post(f"/api/v1/tranches/{tranche['id']}/actions/authorize", world.finance2, {}).status_code == 200
    return app, tranche


def fire(server, headers_list, path, body):
    async def run():
        limits = httpx.Limits(max_connections=CALLS)
        async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as client:
            return await asyncio.gather(*[client.post(path, json=body, headers=h) for h in headers_list])

    return asyncio.run(run())


def payments(world, app_id):
    trail = world.get(f"/api/v1/applications/{app_id}/funds-trail", world.finance).json()
    return [e for e in trail["entries"] if e["kind"] == "payment"], trail["totals"]


def test_same_key_pays_once_and_answers_the_same(module_client, server):
    world = World(Api(module_client))
    app, tranche = authorized_tranche(world, "Kelompok Serentak")
    key = str(uuid.uuid4())
    body = {"transfer_reference": "BRI-CONC-1", "paid_at": today().isoformat()}
    responses = fire(
        server,
        [{**world.finance["headers"], "Idempotency-Key": key}] * CALLS,
        f"/api/v1/tranches/{tranche['id']}/actions/pay",
        body,
    )
    assert [r.status_code for r in responses] == [200] * CALLS, [r.text for r in responses if r.status_code != 200]
    bodies = {r.text for r in responses}
    assert len(bodies) == 1, bodies
    assert sum(1 for r in responses if r.headers.get("idempotent-replayed") == "true") == CALLS - 1
    paid, totals = payments(world, app["id"])
    assert len(paid) == 1 and totals["disbursed"] == tranche["amount"]


def test_different_keys_one_wins_the_rest_conflict(module_client, server):
    world = World(Api(module_client))
    app, tranche = authorized_tranche(world, "Kelompok Berebut")
    body = {"transfer_reference": "BRI-CONC-2", "paid_at": today().isoformat()}
    headers = [{**world.finance["headers"], "Idempotency-Key": str(uuid.uuid4())} for _ in range(CALLS)]
    responses = fire(server, headers, f"/api/v1/tranches/{tranche['id']}/actions/pay", body)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (CALLS - 1), [r.text for r in responses if r.status_code not in (200, 409)]
    paid, totals = payments(world, app["id"])
    assert len(paid) == 1 and totals["disbursed"] == tranche["amount"]
