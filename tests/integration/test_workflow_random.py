"""Random sequences of actions by random roles: every state reached is one the workflow file allows,
and the history replays to the current state."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.support.api import Api
from tests.support.factories import World
from tkm.workflow import loader

pytestmark = pytest.mark.slow

ROLES = ["applicant", "reviewer", "approver", "finance", "auditor", "stranger"]


def body_for(action, app):
    values = {"text": "Catatan uji.", "true": True, "bool": True, "int": 1, "date": "2020-04-01"}
    body = {}
    for field in action.body:
        if field.type == "scores":
            body[field.name] = {c.criterion: 4 for c in loader.get(app["workflow"]).rubric}
        elif field.type == "amounts":
            body[field.name] = dict(app["budget_totals"])
        else:
            body[field.name] = values[field.type]
    return body


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.stranger = w.api.make_user("applicant")
    w.auditor = w.api.make_user("auditor")
    return w


def test_random_walks_follow_the_workflow(world):
    workflow = loader.get("tkm-pemula")
    action_names = [*sorted(workflow.actions), "fly"]
    counter = {"n": 0}
    reached: set[str] = set()

    class Walk(RuleBasedStateMachine):
        @initialize()
        def start(self):
            counter["n"] += 1
            group = world.make_group(world.applicant, name=f"Kelompok Acak {counter['n']}")
            self.app = world.new_application(group=group)
            for kind in ("proposal", "ktp", "sk_kelompok"):
                world.upload(self.app["id"], kind)
            self.state = "draft"

        @rule(data=st.data())
        def act(self, data):
            app = world.app(self.app["id"])
            if workflow.states[app["status"]].final:
                # A finished application proves nothing more: walk on with a fresh one.
                self.start()
                app = world.app(self.app["id"])
            # Mostly pick something that could work from here, so walks get deep into the workflow.
            possible = [a.name for a in workflow.actions_from(app["status"])]
            if possible and data.draw(st.integers(0, 5), label="bias") > 0:
                action = data.draw(st.sampled_from(possible), label="action")
                spec = workflow.actions[action]
                role = data.draw(st.sampled_from([*spec.roles * 6, *ROLES]), label="role")
            else:
                action = data.draw(st.sampled_from(action_names), label="action")
                role = data.draw(st.sampled_from(ROLES), label="role")
            stale = data.draw(st.integers(0, 9), label="stale") == 0
            spec = workflow.actions.get(action)
            if action == "sign_agreement" and app["status"] == "approved":
                world.upload(app["id"], "agreement")
            body = body_for(spec, app) if spec else {}
            version = app["version"] - 1 if stale else app["version"]
            r = world.act(app["id"], action, getattr(world, role), body, version=version)
            after = world.app(app["id"])
            if r.status_code == 200:
                assert not stale and spec is not None
                assert app["status"] in spec.from_states and role in spec.roles
                assert after["status"] == spec.to and after["version"] == app["version"] + 1
            else:
                assert r.status_code in (403, 404, 409, 412, 422), r.text
                assert after["status"] == app["status"] and after["version"] == app["version"]
                if role in ("stranger", "finance") and r.status_code != 404:
                    assert r.status_code == 403
                if role == "stranger":
                    assert r.status_code == 404
            self.state = after["status"]
            reached.add(self.state)

        @invariant()
        def history_replays(self):
            if not hasattr(self, "app"):
                return
            app = world.app(self.app["id"])
            assert app["status"] in workflow.states
            state = None
            for event in app["history"]:
                if event["action"] == "create":
                    assert state is None and event["to"] == workflow.initial
                else:
                    spec = workflow.actions[event["action"]]
                    assert event["from"] == state and event["from"] in spec.from_states and event["to"] == spec.to
                state = event["to"]
            assert state == app["status"]

    Walk.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=18,
        deadline=None,
        derandomize=True,  # the same walks every run: no flakes from an unlucky seed
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    Walk.TestCase().runTest()
    # The walks must have gone past the first steps, or they prove little.
    assert {"submitted", "in_review"} <= reached and reached & {"recommended", "not_recommended", "approved"}
