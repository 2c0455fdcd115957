"""Two approvers approve the same application at the same moment: exactly one wins (real server)."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.support.api import Api
from tests.support.factories import World

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("with_if_match", [True, False])
def test_two_approvers_at_once(module_client, server, with_if_match):
    world = World(Api(module_client))
    second = world.api.make_user("approver", ["13"])
    for round_ in range(4):
        group = world.make_group(world.applicant, name=f"Kelompok Rebutan {with_if_match} {round_}")
        app = world.to_state(world.new_application(group=group)["id"], "recommended")
        barrier = threading.Barrier(2)
        results: list[httpx.Response] = []

        def approve(user, app=app, barrier=barrier, results=results):
            headers = dict(user["headers"])
            if with_if_match:
                headers["If-Match"] = f'"{app["version"]}"'
            with httpx.Client(base_url=server, timeout=30) as client:
                barrier.wait()
                results.append(
                    client.post(
                        f"/api/v1/applications/{app['id']}/actions/approve", json={"notes": "ok"}, headers=headers
                    )
                )

        threads = [threading.Thread(target=approve, args=(u,)) for u in (world.approver, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and codes[1] in (409, 412), [r.text for r in results]
        final = world.app(app["id"])
        assert final["status"] == "approved"
        assert [h["action"] for h in final["history"]].count("approve") == 1
        assert final["version"] == app["version"] + 1
