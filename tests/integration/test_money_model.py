"""The money, end to end through the API, against a plain-Python model (Hypothesis state machine).

Random approvals (against a small programme ceiling), tranche requests, authorizations, payments, bank
failures (reversals) and accepted reports. After every step: all ledger transactions balance, debits equal
credits, disbursed ≤ approved per component, the programme never commits beyond its ceiling, and the
funds-trail totals the API reports equal the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.integration.test_ledger_model import ledger_health
from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today
from tkm.testing.builders import programme_body
from tkm.testing.time_travel import approve_in_the_past, period

pytestmark = pytest.mark.slow

CEILING = 40_000_000  # two applications of 17,000,000 fit; a third does not


@dataclass
class Grant:
    id: int
    approved: dict[str, int]
    tranches: dict[int, dict] = field(default_factory=dict)  # id -> {"component","seq","amount","status","cond"}
    disbursed: dict[str, int] = field(default_factory=dict)
    spent: int = 0
    revenue: int = 0
    reinvested: int = 0
    accepted_reports: int = 0
    next_period: int = 11

    def totals(self):
        disbursed = sum(self.disbursed.values())
        return {
            "approved": sum(self.approved.values()),
            "disbursed": disbursed,
            "spent": self.spent,
            "revenue": self.revenue,
            "reinvested": self.reinvested,
            "unspent": disbursed - self.spent,
        }

    def condition_met(self, t):
        if t["cond"] == "on_approval":
            return True
        if t["cond"] == "after_first_accepted_report":
            return self.accepted_reports >= 1
        return self.accepted_reports >= t["seq"] - 1  # after_accepted_reports


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def test_money_follows_the_model(world):
    seen = {"approved": 0, "refused_approval": 0, "paid": 0, "reversed": 0, "reports": 0, "steps": 0}

    class Money(RuleBasedStateMachine):
        @initialize()
        def fresh(self):
            # Each run gets its own programme, so its ceiling starts untouched.
            r = world.post("/api/v1/programmes", world.admin, programme_body(budget_ceiling=CEILING))
            assert r.status_code == 201, r.text
            self.programme = r.json()
            self.committed = 0
            self.approvals = 0
            self.grants: list[Grant] = []

        @precondition(lambda self: self.approvals < 3)  # the third one runs into the ceiling
        @rule()
        def approve_one(self):
            self.approvals += 1
            group = world.make_group(world.applicant, name=f"Kelompok Model {len(self.grants)}-{id(self)}")
            app = world.new_application(group=group, programme=self.programme["code"])
            app = world.to_state(app["id"], "recommended")
            total = sum(app["budget_totals"].values())
            r = world.act(app["id"], "approve", world.approver, {"notes": "model"})
            if self.committed + total > CEILING:
                assert r.status_code == 409, r.text  # the programme budget is exhausted
                seen["refused_approval"] += 1
                return
            assert r.status_code == 200, r.text
            self.committed += total
            seen["approved"] += 1
            world.to_state(app["id"], "active")
            approve_in_the_past(world.api, app["id"], 12)
            grant = Grant(app["id"], dict(app["budget_totals"]))
            for t in world.get(f"/api/v1/applications/{app['id']}/tranches", world.finance).json():
                grant.tranches[t["id"]] = {
                    "component": t["component"],
                    "seq": t["seq"],
                    "amount": t["amount"],
                    "status": "planned",
                    "cond": t["due_condition"],
                }
            self.grants.append(grant)

        def _pick(self, data, *statuses):
            """Mostly a tranche in one of ``statuses`` (so money really moves), sometimes any (to be refused)."""
            candidates = [
                (g, tid) for g in self.grants for tid, t in sorted(g.tranches.items()) if t["status"] in statuses
            ]
            if candidates and data.draw(st.integers(0, 4), label="targeted") > 0:
                grant, tid = data.draw(st.sampled_from(candidates), label="tranche")
            else:
                grant = data.draw(st.sampled_from(self.grants), label="grant")
                tid = data.draw(st.sampled_from(sorted(grant.tranches)), label="tranche")
            return grant, tid, grant.tranches[tid]

        @precondition(lambda self: self.grants)
        @rule(data=st.data())
        def request(self, data):
            grant, tid, t = self._pick(data, "planned", "failed")
            r = world.post(f"/api/v1/tranches/{tid}/actions/request", world.finance, {})
            if t["status"] in ("planned", "failed") and grant.condition_met(t):
                assert r.status_code == 200, r.text
                t["status"] = "requested"
                seen["requested"] = seen.get("requested", 0) + 1
            else:
                assert r.status_code == 409, r.text

        @precondition(lambda self: self.grants)
        @rule(data=st.data(), same_person=st.booleans())
        def authorize(self, data, same_person):
            _grant, tid, t = self._pick(data, "requested")
            who = world.finance if same_person else world.finance2
            r = world.post(f"/api/v1/tranches/{tid}/actions/authorize", who, {})
            if t["status"] != "requested":
                assert r.status_code == 409, r.text
            elif same_person:
                assert r.status_code == 403, r.text
            else:
                assert r.status_code == 200, r.text
                t["status"] = "authorized"
                seen["authorized"] = seen.get("authorized", 0) + 1

        @precondition(lambda self: self.grants)
        @rule(data=st.data())
        def pay(self, data):
            grant, tid, t = self._pick(data, "authorized")
            r = world.post(
                f"/api/v1/tranches/{tid}/actions/pay",
                world.finance,
                {"transfer_reference": f"M-{tid}", "paid_at": today().isoformat()},
            )
            if t["status"] == "authorized":
                assert r.status_code == 200, r.text
                t["status"] = "paid"
                seen["paid"] += 1
                grant.disbursed[t["component"]] = grant.disbursed.get(t["component"], 0) + t["amount"]
            else:
                assert r.status_code == 409, r.text

        @precondition(lambda self: self.grants)
        @rule(data=st.data())
        def bank_rejects(self, data):
            grant, tid, t = self._pick(data, "authorized", "paid")
            r = world.post(f"/api/v1/tranches/{tid}/actions/fail", world.finance, {"reason": "rekening ditutup"})
            if t["status"] in ("authorized", "paid"):
                assert r.status_code == 200, r.text
                if t["status"] == "paid":
                    grant.disbursed[t["component"]] -= t["amount"]
                    seen["reversed"] += 1
                t["status"] = "failed"
            else:
                assert r.status_code == 409, r.text

        @precondition(lambda self: self.grants)
        @rule(data=st.data(), revenue=st.integers(0, 5_000_000), spend=st.integers(0, 3_000_000))
        def report(self, data, revenue, spend):
            grant = data.draw(st.sampled_from(self.grants), label="grant")
            unspent = max(0, grant.totals()["unspent"])
            reinvested = min(revenue + unspent, data.draw(st.integers(0, 4_000_000), label="reinvested"))
            body = {
                "period": period(grant.next_period),
                "production": [{"product": "masker", "unit": "pcs", "quantity": 1000}],
                "sales": [{"product": "masker", "quantity": 500, "revenue": revenue}],
                "expenses": [{"category": "raw_materials", "amount": spend}] if spend else [],
                "reinvested": reinvested,
                "workers": 8,
                "wages_paid": 0,
            }
            grant.next_period -= 1
            r = world.post(f"/api/v1/applications/{grant.id}/reports", world.applicant, body)
            assert r.status_code == 201, r.text
            r = world.post(f"/api/v1/reports/{r.json()['id']}/actions/accept", world.reviewer, {})
            assert r.status_code == 200, r.text
            grant.accepted_reports += 1
            seen["reports"] += 1
            grant.spent += spend
            grant.revenue += revenue
            grant.reinvested += reinvested

        @invariant()
        def books_balance(self):
            seen["steps"] += 1
            debits, credits, unbalanced = ledger_health(world.api)
            assert debits == credits and unbalanced == []

        @invariant()
        def api_totals_equal_the_model(self):
            for grant in getattr(self, "grants", []):
                totals = world.get(f"/api/v1/applications/{grant.id}/funds-trail", world.auditor).json()["totals"]
                assert {k: totals[k] for k in grant.totals()} == grant.totals()
                for component, approved in grant.approved.items():
                    assert grant.disbursed.get(component, 0) <= approved
                    assert totals["components"][component]["disbursed"] == grant.disbursed.get(component, 0)

        @invariant()
        def programme_within_ceiling(self):
            from tkm.ledger import services as ledger

            if hasattr(self, "programme"):
                committed = world.api.call(ledger.programme_committed, self.programme["id"])
                assert committed == self.committed <= CEILING

    world.auditor = world.api.make_user("auditor")
    Money.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=40,
        deadline=None,
        derandomize=True,  # the same walks every run: no flakes from an unlucky seed
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: each replay of a long API walk costs minutes
    )
    Money.TestCase().runTest()
    # The walks must have exercised every way money moves, or they prove little.
    assert all(seen.values()), f"{seen}"
