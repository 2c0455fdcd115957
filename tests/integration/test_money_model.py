"""The money, end to end through the API, against a plain-Python model (Hypothesis state machine).

Random approvals (against a small programme ceiling), tranche requests, authorizations, payments, bank
failures (reversals) and accepted reports that spend from the grant's two pools: the grant money the group holds
per component and its own money from sales. After every step: all ledger transactions balance, debits equal
credits, disbursed ≤ approved per component, the programme never commits beyond its ceiling, neither pool is
below zero, and the funds-trail totals the API reports equal the model's. Reports that would take a pool below
zero, or that send a ``reinvested`` other than their sales-funded spending, are refused naming the field.
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
from tkm.programmes.schemas import COMPONENTS
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
    grant_spent: dict[str, int] = field(default_factory=dict)
    own_spent: int = 0
    revenue: int = 0
    accepted_reports: int = 0
    next_period: int = 11

    def held(self, component: str) -> int:
        """Grant money the group holds for a component: paid to it and not yet spent."""
        return self.disbursed.get(component, 0) - self.grant_spent.get(component, 0)

    def own(self) -> int:
        return self.revenue - self.own_spent

    def totals(self):
        disbursed, grant_spent = sum(self.disbursed.values()), sum(self.grant_spent.values())
        return {
            "approved": sum(self.approved.values()),
            "disbursed": disbursed,
            "spent": grant_spent + self.own_spent,
            "revenue": self.revenue,
            "reinvested": self.own_spent,
            "unspent": disbursed - grant_spent,
            "grant_spent": grant_spent,
            "grant_unspent": disbursed - grant_spent,
            "own_spent": self.own_spent,
            "own_balance": self.own(),
            "returned": 0,
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
    seen = {
        "approved": 0,
        "refused_approval": 0,
        "paid": 0,
        "reversed": 0,
        "refused_reversal": 0,
        "reports": 0,
        "grant_spending": 0,
        "own_spending": 0,
        "refused_report": 0,
        "steps": 0,
    }

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
        def pay_a_due_tranche(self, data):
            """Request, authorize and pay one tranche whose condition is met, so that grant money reaches the
            groups in most walks (and reports can spend it)."""
            due = [
                (g, tid)
                for g in self.grants
                for tid, t in sorted(g.tranches.items())
                if t["status"] in ("planned", "failed") and g.condition_met(t)
            ]
            if not due:
                return
            grant, tid = data.draw(st.sampled_from(due), label="due tranche")
            t = grant.tranches[tid]
            listed = world.get(f"/api/v1/applications/{grant.id}/tranches", world.finance).json()
            tranche = next(x for x in listed if x["id"] == tid)
            assert world.pay(tranche, today())["status"] == "paid"
            t["status"] = "paid"
            seen["paid"] += 1
            grant.disbursed[t["component"]] = grant.disbursed.get(t["component"], 0) + t["amount"]

        @precondition(lambda self: self.grants)
        @rule(data=st.data())
        def bank_rejects(self, data):
            grant, tid, t = self._pick(data, "authorized", "paid")
            r = world.post(f"/api/v1/tranches/{tid}/actions/fail", world.finance, {"reason": "rekening ditutup"})
            if t["status"] == "paid" and grant.held(t["component"]) < t["amount"]:
                # The group already spent that grant money: un-paying it would take the pool below zero.
                assert r.status_code == 409, r.text
                seen["refused_reversal"] += 1
            elif t["status"] in ("authorized", "paid"):
                assert r.status_code == 200, r.text
                if t["status"] == "paid":
                    grant.disbursed[t["component"]] -= t["amount"]
                    seen["reversed"] += 1
                t["status"] = "failed"
            else:
                assert r.status_code == 409, r.text

        @precondition(lambda self: self.grants)
        @rule(
            data=st.data(),
            revenue=st.integers(0, 5_000_000),
            outcome=st.sampled_from(["ok", "ok", "ok", "ok", "over_grant", "over_own", "wrong_reinvested"]),
            send_reinvested=st.booleans(),
        )
        def report(self, data, revenue, outcome, send_reinvested):
            open_periods = [g for g in self.grants if g.next_period >= 0]  # one report a month, up to this month
            if not open_periods:
                return
            grant = data.draw(st.sampled_from(open_periods), label="grant")
            # At most one grant line per component, each within what the group holds of it.
            held = [c for c in COMPONENTS if grant.held(c) > 0]
            paying = (
                data.draw(st.lists(st.sampled_from(held), max_size=2, unique=True), label="components") if held else []
            )
            expenses = [
                {
                    "category": "equipment",
                    "amount": data.draw(st.integers(1, grant.held(c)), label=f"grant {c}"),
                    "source": "grant",
                    "component": c,
                }
                for c in paying
            ]
            own_spend = data.draw(st.integers(0, min(4_000_000, grant.own() + revenue)), label="own spend")
            if own_spend:
                expenses.append({"category": "raw_materials", "amount": own_spend, "source": "sales"})
            refused = None
            if outcome == "over_grant":
                component = data.draw(st.sampled_from(COMPONENTS), label="over component")
                line = next((i for i, e in enumerate(expenses) if e.get("component") == component), None)
                if line is None:
                    line = len(expenses)
                    expenses.append({"category": "equipment", "amount": 0, "source": "grant", "component": component})
                expenses[line]["amount"] = grant.held(component) + 1
                refused = f"expenses[{line}].amount"
            elif outcome == "over_own":
                line = next((i for i, e in enumerate(expenses) if e["source"] == "sales"), None)
                if line is None:
                    line = len(expenses)
                    expenses.append({"category": "raw_materials", "amount": 0, "source": "sales"})
                expenses[line]["amount"] = grant.own() + revenue + 1
                refused = f"expenses[{line}].amount"
            own_spent = sum(e["amount"] for e in expenses if e["source"] == "sales")
            body = {
                "period": period(grant.next_period),
                "production": [{"product": "masker", "unit": "pcs", "quantity": 1000}],
                "sales": [{"product": "masker", "quantity": 500, "revenue": revenue}],
                "expenses": expenses,
                "workers": 8,
                "wages_paid": 0,
            }
            if outcome == "wrong_reinvested":
                body["reinvested"] = own_spent + data.draw(st.integers(1, 1_000_000), label="wrong by")
                refused = "reinvested"
            elif send_reinvested:
                body["reinvested"] = own_spent  # a client may send the derived figure
            r = world.post(f"/api/v1/applications/{grant.id}/reports", world.applicant, body)
            if refused:
                assert r.status_code == 422, r.text
                assert [e["field"] for e in r.json()["errors"]] == [refused], (body, r.text)
                seen["refused_report"] += 1
                return
            assert r.status_code == 201, r.text
            assert r.json()["reinvested"] == own_spent
            r = world.post(f"/api/v1/reports/{r.json()['id']}/actions/accept", world.reviewer, {})
            assert r.status_code == 200, r.text
            assert sorted((e["source"], e["component"] or "", e["amount"]) for e in r.json()["expenses"]) == sorted(
                (e["source"], e.get("component", ""), e["amount"]) for e in expenses
            )
            grant.next_period -= 1
            grant.accepted_reports += 1
            seen["reports"] += 1
            for e in expenses:
                if e["source"] == "grant":
                    grant.grant_spent[e["component"]] = grant.grant_spent.get(e["component"], 0) + e["amount"]
                    seen["grant_spending"] += 1
            seen["own_spending"] += bool(own_spent)
            grant.revenue += revenue
            grant.own_spent += own_spent

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
                assert totals["unspent"] >= 0 and totals["own_balance"] >= 0
                for component, approved in grant.approved.items():
                    assert grant.disbursed.get(component, 0) <= approved
                    assert totals["components"][component]["disbursed"] == grant.disbursed.get(component, 0)
                    figures = totals["by_component"][component]
                    assert figures["grant_spent"] == grant.grant_spent.get(component, 0)
                    assert figures["unspent"] == grant.held(component) >= 0

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
