"""Random commits, payments, reversals and reports against a plain-Python model (Hypothesis state machine).

After every step: every transaction balances, debits equal credits, disbursed ≤ approved per component,
the programme never commits beyond its ceiling, and ``totals()`` and the trail agree with the model.
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
from tkm.ledger.accounts import EXPENSE_CATEGORIES
from tkm.programmes.schemas import COMPONENTS

pytestmark = pytest.mark.slow

APPS = 2


@dataclass
class AppModel:
    approved: dict[str, int] = field(default_factory=dict)
    disbursed: dict[str, int] = field(default_factory=dict)
    expenses: dict[str, int] = field(default_factory=dict)
    revenue: int = 0
    reinvested: int = 0
    active_commit: int | None = None

    def totals(self) -> dict:
        disbursed, spent = sum(self.disbursed.values()), sum(self.expenses.values())
        return {
            "approved": sum(self.approved.values()),
            "disbursed": disbursed,
            "spent": spent,
            "revenue": self.revenue,
            "reinvested": self.reinvested,
            "unspent": disbursed - spent,
            "released": 0,
            "components": {
                c: {"approved": self.approved.get(c, 0), "disbursed": self.disbursed.get(c, 0)}
                for c in COMPONENTS
                if self.approved.get(c, 0) or self.disbursed.get(c, 0)
            },
            "expenses": {c: self.expenses[c] for c in EXPENSE_CATEGORIES if self.expenses.get(c)},
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

        @initialize(ceiling=st.integers(min_value=1, max_value=40))
        def open_programme(self, ceiling):
            self.ceiling = ceiling
            self.programme_id = make_programme(api, admin, ceiling=ceiling)
            self.apps = [make_application(api, applicant, self.programme_id)["id"] for _ in range(APPS)]
            self.model = {app: AppModel() for app in self.apps}
            self.posted: dict[int, Posted] = {}

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
            expenses=st.dictionaries(st.sampled_from(EXPENSE_CATEGORIES), st.integers(0, 10), max_size=3),
            revenue=st.integers(0, 20),
            reinvested=st.integers(0, 8),
        )
        def report(self, index, expenses, revenue, reinvested):
            app, model = self.apps[index], self.model[self.apps[index]]
            txn, problem = attempt(
                services.record_report,
                app,
                expenses=expenses,
                revenue=revenue,
                reinvested=reinvested,
                reference="2020-04",
                actor=reviewer,
            )
            if not any(expenses.values()) and not revenue and not reinvested:
                assert problem is not None and problem.status == 422
                return multiple()
            assert problem is None, problem
            for category, amount in expenses.items():
                add(model.expenses, category, amount)
            model.revenue += revenue
            model.reinvested += reinvested
            self.posted[txn] = Posted(
                "report", app, {"expenses": dict(expenses), "revenue": revenue, "reinvested": reinvested}
            )
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
            assert problem is None, problem
            original.reversed = True
            if original.kind == "commit":
                for component, amount in original.data.items():
                    add(model.approved, component, -amount)
                model.active_commit = None
            elif original.kind == "payment":
                add(model.disbursed, original.data["component"], -original.data["amount"])
            else:
                for category, amount in original.data["expenses"].items():
                    add(model.expenses, category, -amount)
                model.revenue -= original.data["revenue"]
                model.reinvested -= original.data["reinvested"]
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
            assert api.call(services.verify) is None

    LedgerMachine.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    LedgerMachine.TestCase().runTest()


async def _collect(application_id: int) -> list[dict]:
    return [line async for line in services.trail(application_id, batch_size=3)]
