"""Random commits, payments, reports, returns and reversals against a plain-Python model (Hypothesis state machine).

The model keeps a grant's two pools apart: the grant money the group holds per component (paid − spent from the
grant − returned) and the group's own money (sales revenue − sales-funded spending). After every step: every
transaction balances, debits equal credits, disbursed ≤ approved per component, neither pool is below zero, the
programme never commits beyond its ceiling, and ``totals()``, ``pools()`` and the trail agree with the model.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from tests.support.ledger_setup import actor, make_application, make_programme
from tkm.core.errors import Problem
from tkm.ledger import services
from tkm.ledger.accounts import Kind, return_legs
from tkm.ledger.posting import Posting
from tkm.programmes.schemas import COMPONENTS

pytestmark = pytest.mark.slow

APPS = 2


@dataclass
class AppModel:
    approved: dict[str, int] = field(default_factory=dict)
    disbursed: dict[str, int] = field(default_factory=dict)
    grant_spent: dict[str, int] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    revenue: int = 0
    own_spent: int = 0
    active_commit: int | None = None

    def grant_cash(self, component: str) -> int:
        """Grant money the group holds for a component."""
        return self.disbursed.get(component, 0) - self.grant_spent.get(component, 0) - self.returned.get(component, 0)

    def own(self) -> int:
        return self.revenue - self.own_spent

    def pools(self) -> dict:
        return {"grant": {c: self.grant_cash(c) for c in COMPONENTS if self.grant_cash(c)}, "own": self.own()}

    def totals(self) -> dict:
        disbursed, grant_spent = sum(self.disbursed.values()), sum(self.grant_spent.values())
        returned = sum(self.returned.values())
        shown = [c for c in COMPONENTS if self.approved.get(c, 0) or self.disbursed.get(c, 0)]
        return {
            "approved": sum(self.approved.values()),
            "disbursed": disbursed,
            "spent": grant_spent + self.own_spent,
            "revenue": self.revenue,
            "reinvested": self.own_spent,
            "unspent": disbursed - grant_spent - returned,
            "grant_spent": grant_spent,
            "grant_unspent": disbursed - grant_spent - returned,
            "own_spent": self.own_spent,
            "own_balance": self.own(),
            "returned": returned,
            "released": 0,
            "by_component": {
                c: {
                    "approved": self.approved.get(c, 0),
                    "disbursed": self.disbursed.get(c, 0),
                    "grant_spent": self.grant_spent.get(c, 0),
                    "returned": self.returned.get(c, 0),
                    "unspent": self.grant_cash(c),
                }
                for c in shown
            },
            "components": {
                c: {"approved": self.approved.get(c, 0), "disbursed": self.disbursed.get(c, 0)} for c in shown
            },
        }


@dataclass
class Posted:
    kind: str
    app: int
    data: dict
    reversed: bool = False


def add(target: dict[str, int], key: str, amount: int) -> None:
    target[key] = target.get(key, 0) + amount


def ledger_health(api):
    from tkm.core import db

    async def load():
        sums = await db.fetch_one(
            "SELECT CAST(COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0) AS BIGINT) AS debits, "
            "CAST(COALESCE(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 0) AS BIGINT) AS credits "
            "FROM ledger_entries"
        )
        bad = await db.fetch("SELECT txn FROM ledger_entries GROUP BY txn HAVING SUM(amount) <> 0 OR COUNT(*) < 2")
        return int(sums["debits"]), int(sums["credits"]), [r["txn"] for r in bad]

    return api.call(load)


def test_ledger_matches_a_reference_model(api, database):
    admin = api.make_user("admin")
    approver, finance = actor(api.make_user("approver", ["13"])), actor(api.make_user("finance", ["13"]))
    reviewer, applicant = actor(api.make_user("reviewer", ["13"])), api.make_user("applicant")

    def attempt(fn, *args, **kwargs):
        """(result, None) or (None, problem)."""
        try:
            return api.call(fn, *args, **kwargs), None
        except Problem as problem:
            return None, problem

    class LedgerMachine(RuleBasedStateMachine):
        transactions = Bundle("transactions")

        @initialize(target=transactions, ceiling=st.integers(min_value=1, max_value=40), data=st.data())
        def open_programme(self, ceiling, data):
            self.ceiling = ceiling
            self.programme_id = make_programme(api, admin, ceiling=ceiling)
            self.apps = [make_application(api, applicant, self.programme_id)["id"] for _ in range(APPS)]
            self.model = {app: AppModel() for app in self.apps}
            self.posted: dict[int, Posted] = {}
            # Every run starts with one grant that holds money, so that spending, returns and their reversals
            # (and the refusals that keep both pools at zero or more) are reached in a few steps.
            component = data.draw(st.sampled_from(COMPONENTS))
            approved = data.draw(st.integers(1, min(ceiling, 15)))
            commit = self.commit(0, {component: approved})
            payment = self._pay(0, component, data.draw(st.integers(1, approved)))
            return multiple(commit, payment)

        def committed(self) -> int:
            return sum(sum(m.approved.values()) for m in self.model.values())

        @rule(
            target=transactions,
            index=st.integers(0, APPS - 1),
            budget=st.dictionaries(st.sampled_from(COMPONENTS), st.integers(1, 15), min_size=1, max_size=3),
        )
        def commit(self, index, budget):
            app, model = self.apps[index], self.model[self.apps[index]]
            txn, problem = attempt(services.commit_budget, app, self.programme_id, budget, approver)
            if model.active_commit is not None:
                assert problem is not None and problem.status == 409
                return multiple()
            if sum(budget.values()) > self.ceiling - self.committed():
                assert problem is not None and problem.status == 409 and problem.title == "Programme budget exhausted"
                return multiple()
            assert problem is None, problem
            for component, amount in budget.items():
                add(model.approved, component, amount)
            model.active_commit = txn
            self.posted[txn] = Posted("commit", app, dict(budget))
            return txn

        @rule(
            target=transactions,
            index=st.integers(0, APPS - 1),
            component=st.sampled_from(COMPONENTS),
            amount=st.integers(1, 12),
        )
        def pay(self, index, component, amount):
            return self._pay(index, component, amount)

        @rule(target=transactions, index=st.integers(0, APPS - 1), data=st.data())
        def pay_within_approval(self, index, data):
            """A payment the ledger should take: part of what is approved and not yet paid for a component."""
            model = self.model[self.apps[index]]
            open_ = [c for c in COMPONENTS if model.approved.get(c, 0) > model.disbursed.get(c, 0)]
            if not open_:
                return multiple()
            component = data.draw(st.sampled_from(open_))
            left = model.approved[component] - model.disbursed.get(component, 0)
            return self._pay(index, component, data.draw(st.integers(1, left)))

        def _pay(self, index, component, amount):
            app, model = self.apps[index], self.model[self.apps[index]]
            txn, problem = attempt(services.record_payment, app, component, amount, f"TRF-{amount}", finance)
            if amount > model.approved.get(component, 0) - model.disbursed.get(component, 0):
                assert problem is not None and problem.status == 409
                return multiple()
            assert problem is None, problem
            add(model.disbursed, component, amount)
            self.posted[txn] = Posted("payment", app, {"component": component, "amount": amount})
            return txn

        @rule(
            index=st.integers(0, APPS - 1),
            amount=st.one_of(st.integers(max_value=0), st.floats(allow_nan=False), st.booleans(), st.text(max_size=3)),
        )
        def pay_nonsense(self, index, amount):
            _txn, problem = attempt(services.record_payment, self.apps[index], "capital", amount, "X", finance)
            assert problem is not None and problem.status == 422
            assert [e.field for e in problem.errors] == ["amount"]

        @rule(
            target=transactions,
            index=st.integers(0, APPS - 1),
            grant_spent=st.dictionaries(st.sampled_from(COMPONENTS), st.integers(0, 10), max_size=3),
            revenue=st.integers(0, 20),
            own_spent=st.integers(0, 12),
        )
        def report(self, index, grant_spent, revenue, own_spent):
            return self._report(index, grant_spent, revenue, own_spent)

        @rule(target=transactions, index=st.integers(0, APPS - 1), data=st.data())
        def report_within_pools(self, index, data):
            """A report the ledger should take: grant spending within what each component holds, own spending
            within the own money and this month's sales; later reversals of the money it spent are refused."""
            model = self.model[self.apps[index]]
            held = [c for c in COMPONENTS if model.grant_cash(c) > 0]
            grant_spent = {c: data.draw(st.integers(0, model.grant_cash(c))) for c in held}
            revenue = data.draw(st.integers(0, 10))
            own_spent = data.draw(st.integers(0, model.own() + revenue))
            return self._report(index, grant_spent, revenue, own_spent)

        def _report(self, index, grant_spent, revenue, own_spent):
            app, model = self.apps[index], self.model[self.apps[index]]
            txn, problem = attempt(
                services.record_report,
                app,
                grant_spent=grant_spent,
                own_spent=own_spent,
                revenue=revenue,
                reference="2020-04",
                actor=reviewer,
            )
            if not any(grant_spent.values()) and not revenue and not own_spent:
                assert problem is not None and problem.status == 422
                return multiple()
            # Each pool pays only for itself: grant money per component, own money from earlier and this month's sales.
            if (
                any(amount > model.grant_cash(c) for c, amount in grant_spent.items())
                or own_spent > model.own() + revenue
            ):
                assert problem is not None and problem.status == 409, (grant_spent, own_spent, revenue, model)
                return multiple()
            assert problem is None, problem
            for component, amount in grant_spent.items():
                add(model.grant_spent, component, amount)
            model.revenue += revenue
            model.own_spent += own_spent
            self.posted[txn] = Posted(
                "report", app, {"grant_spent": dict(grant_spent), "revenue": revenue, "own_spent": own_spent}
            )
            return txn

        @rule(
            target=transactions,
            index=st.integers(0, APPS - 1),
            data=st.data(),
        )
        def give_back(self, index, data):
            """A deposit of unspent grant money to the treasury, posted straight to the ledger: the ledger itself
            refuses one that would take a component's grant money below zero (one rupiah more than it holds)."""
            app, model = self.apps[index], self.model[self.apps[index]]
            held = [c for c in COMPONENTS if model.grant_cash(c) > 0] or list(COMPONENTS)
            components = data.draw(st.lists(st.sampled_from(held), min_size=1, max_size=2, unique=True))
            amounts = {c: data.draw(st.integers(1, model.grant_cash(c) + 1)) for c in components}
            posting = Posting(
                Kind.deposit, return_legs(app, amounts), application_id=app, programme_id=self.programme_id
            )
            txn, problem = attempt(services.post, posting, finance)
            if any(amount > model.grant_cash(c) for c, amount in amounts.items()):
                assert problem is not None and problem.status == 409
                return multiple()
            assert problem is None, problem
            for component, amount in amounts.items():
                add(model.returned, component, amount)
            self.posted[txn] = Posted("return", app, dict(amounts))
            return txn

        @rule(target=transactions, txn=transactions)
        def reverse(self, txn):
            if txn not in self.posted:  # a transaction of an earlier example (another programme): leave it
                return multiple()
            original = self.posted[txn]
            model = self.model[original.app]
            reversal, problem = attempt(services.reverse, txn, "koreksi", finance)
            if original.kind == "reversal" or original.reversed:
                assert problem is not None and problem.status == 409
                return multiple()
            if original.kind == "commit" and any(
                amount > model.approved[c] - model.disbursed.get(c, 0) for c, amount in original.data.items()
            ):
                assert problem is not None and problem.status == 409
                return multiple()
            # Undoing money that was since spent would take a pool below zero: refused.
            if original.kind == "payment" and original.data["amount"] > model.grant_cash(original.data["component"]):
                assert problem is not None and problem.status == 409
                return multiple()
            if original.kind == "report" and original.data["revenue"] - original.data["own_spent"] > model.own():
                assert problem is not None and problem.status == 409
                return multiple()
            assert problem is None, problem
            original.reversed = True
            if original.kind == "commit":
                for component, amount in original.data.items():
                    add(model.approved, component, -amount)
                model.active_commit = None
            elif original.kind == "payment":
                add(model.disbursed, original.data["component"], -original.data["amount"])
            elif original.kind == "return":
                for component, amount in original.data.items():
                    add(model.returned, component, -amount)
            else:
                for component, amount in original.data["grant_spent"].items():
                    add(model.grant_spent, component, -amount)
                model.revenue -= original.data["revenue"]
                model.own_spent -= original.data["own_spent"]
            self.posted[reversal] = Posted("reversal", original.app, {"of": txn})
            return reversal

        @invariant()
        def ledger_balances(self):
            debits, credits, unbalanced = ledger_health(api)
            assert debits == credits
            assert unbalanced == []

        @invariant()
        def totals_match_the_model(self):
            if not hasattr(self, "apps"):
                return
            for app in self.apps:
                actual = api.call(services.totals, app)
                assert actual == self.model[app].totals()
                for figures in actual["components"].values():
                    assert 0 <= figures["disbursed"] <= figures["approved"]
                assert actual["unspent"] >= 0 and actual["own_balance"] >= 0
                assert all(figures["unspent"] >= 0 for figures in actual["by_component"].values())

        @invariant()
        def pools_match_the_model_and_never_go_below_zero(self):
            if not hasattr(self, "apps"):
                return
            for app in self.apps:
                pools = api.call(services.pools, app)
                assert all(amount >= 0 for amount in pools["grant"].values()) and pools["own"] >= 0
                held = {"grant": {c: v for c, v in pools["grant"].items() if v}, "own": pools["own"]}
                assert held == self.model[app].pools()

        @invariant()
        def programme_within_ceiling(self):
            if not hasattr(self, "apps"):
                return
            committed = api.call(services.programme_committed, self.programme_id)
            assert committed == self.committed() <= self.ceiling

        def teardown(self):
            if not hasattr(self, "apps"):
                return
            for app in self.apps:
                lines = api.call(_collect, app)
                expected = self.model[app].totals()
                assert (lines[-1]["balance_after"] if lines else 0) == expected["unspent"]
                assert all(line["balance_after"] >= 0 for line in lines)
            assert api.call(services.verify) is None

    LedgerMachine.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    LedgerMachine.TestCase().runTest()


async def _collect(application_id: int) -> list[dict]:
    return [line async for line in services.trail(application_id, batch_size=3)]
