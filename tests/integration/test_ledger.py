"""The funds trail: postings, invariants, the approve effect and GET .../funds-trail (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.support.ledger_setup import actor, make_application, make_programme
from tkm.core.cells import excel_date
from tkm.core.errors import Conflict, NotFound, Problem, ValidationProblem
from tkm.ledger import services
from tkm.web.labels import label

M = 1_000_000


@pytest.fixture(scope="module")
def cache(database):
    return {}


@pytest.fixture
def people(api, cache):
    if "people" not in cache:
        cache["people"] = {
            "admin": api.make_user("admin"),
            "approver": api.make_user("approver", ["13"]),
            "finance": api.make_user("finance", ["13.71"]),
            "reviewer": api.make_user("reviewer", ["13"]),
            "reviewer_elsewhere": api.make_user("reviewer", ["31"]),
            "auditor": api.make_user("auditor"),
            "applicant": api.make_user("applicant"),
            "other_applicant": api.make_user("applicant"),
        }
    return cache["people"]


@pytest.fixture
def grant(api, people):
    """A programme of Rp100 million and one application in it, nothing posted yet."""
    programme_id = make_programme(api, people["admin"], ceiling=100 * M)
    return make_application(api, people["applicant"], programme_id)


def totals(api, application_id):
    return api.call(services.totals, application_id)


def trail(api, application_id, **kwargs):
    async def collect():
        return [line async for line in services.trail(application_id, **kwargs)]

    return api.call(collect)


def fails(api, fn, *args, **kwargs) -> Problem:
    with pytest.raises(Problem) as info:
        api.call(fn, *args, **kwargs)
    return info.value


def ledger_sums(api):
    """(Σ debits, Σ credits, transactions whose entries do not sum to zero) over the whole ledger."""
    from tkm.core import db

    async def load():
        debit = await db.fetch_one(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM ledger_entries WHERE amount > 0"
        )
        credit = await db.fetch_one(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM ledger_entries WHERE amount < 0"
        )
        bad = await db.fetch("SELECT txn FROM ledger_entries GROUP BY txn HAVING SUM(amount) <> 0 OR COUNT(*) < 2")
        return int(debit["s"]), -int(credit["s"]), [r["txn"] for r in bad]

    return api.call(load)


# --- postings and totals ------------------------------------------------------------------------------------------


def test_commit_pay_and_report_move_the_totals_and_the_trail(api, people, grant):
    app_id = grant["id"]
    approver, finance, reviewer = (actor(people[k]) for k in ("approver", "finance", "reviewer"))

    commit = api.call(
        services.commit_budget, app_id, grant["programme_id"], {"capital": 10 * M, "wages": 5 * M}, approver
    )
    assert api.call(services.programme_committed, grant["programme_id"]) == 15 * M
    t = totals(api, app_id)
    assert (t["approved"], t["disbursed"], t["unspent"]) == (15 * M, 0, 0)
    assert t["components"] == {
        "capital": {"approved": 10 * M, "disbursed": 0},
        "wages": {"approved": 5 * M, "disbursed": 0},
    }

    pay = api.call(services.record_payment, app_id, "capital", 4 * M, "TRF-001", finance)
    api.call(services.record_payment, app_id, "wages", 1 * M, "TRF-002", finance)
    report = api.call(
        services.record_report,
        app_id,
        grant_spent={"capital": 1 * M, "wages": 500_000, "marketing": 0},
        own_spent=1 * M,
        revenue=3 * M,
        reference="2020-04",
        actor=reviewer,
    )
    assert commit < pay < report

    t = totals(api, app_id)
    assert t == {
        "approved": 15 * M,
        "disbursed": 5 * M,
        "spent": 2_500_000,  # grant money spent (1.5 million) + the group's own money spent (1 million)
        "revenue": 3 * M,
        "reinvested": 1 * M,
        "unspent": 3_500_000,
        "grant_spent": 1_500_000,
        "grant_unspent": 3_500_000,
        "own_spent": 1 * M,
        "own_balance": 2 * M,
        "returned": 0,
        "released": 0,
        "by_component": {
            "capital": {"approved": 10 * M, "disbursed": 4 * M, "grant_spent": 1 * M, "returned": 0, "unspent": 3 * M},
            "wages": {"approved": 5 * M, "disbursed": 1 * M, "grant_spent": 500_000, "returned": 0, "unspent": 500_000},
        },
        "components": {
            "capital": {"approved": 10 * M, "disbursed": 4 * M},
            "wages": {"approved": 5 * M, "disbursed": 1 * M},
        },
    }
    assert api.call(services.pools, app_id) == {"grant": {"capital": 3 * M, "wages": 500_000}, "own": 2 * M}
    lines = trail(api, app_id)
    assert [(line["kind"], line["component"], line["amount"], line["balance_after"]) for line in lines] == [
        ("commit", "capital", 10 * M, 0),
        ("commit", "wages", 5 * M, 0),
        ("payment", "capital", 4 * M, 4 * M),
        ("payment", "wages", 1 * M, 5 * M),
        ("report_revenue", "", 3 * M, 5 * M),
        ("report_expense", "capital", 1 * M, 4 * M),
        ("report_expense", "wages", 500_000, 3_500_000),
        ("report_reinvestment", "", 1 * M, 3_500_000),
    ]
    assert lines[2]["reference"] == "TRF-001" and lines[2]["transaction_id"] == pay
    assert lines[-1]["balance_after"] == t["unspent"]
    debits, credits, unbalanced = ledger_sums(api)
    assert debits == credits and unbalanced == []


def test_trail_reads_in_batches_without_losing_or_repeating_lines(api, people, grant):
    app_id = grant["id"]
    api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 10 * M}, actor(people["approver"]))
    for i in range(7):
        api.call(services.record_payment, app_id, "capital", 100_000 + i, f"TRF-{i}", actor(people["finance"]))
    whole = trail(api, app_id)
    assert len(whole) == 8
    for size in (1, 2, 3):
        assert trail(api, app_id, batch_size=size) == whole
    # A bound taken earlier hides later postings: trail and totals describe one moment.
    bound = api.call(services.last_seq)
    api.call(services.record_payment, app_id, "capital", 1, "TRF-late", actor(people["finance"]))
    assert trail(api, app_id, up_to_seq=bound) == whole
    assert api.call(services.totals, app_id, up_to_seq=bound)["disbursed"] == sum(100_000 + i for i in range(7))


def test_every_posting_writes_an_audit_event(api, people, grant):
    from tkm.core.tables import AuditEvent

    pay_actor = actor(people["finance"])
    api.call(
        services.commit_budget, grant["id"], grant["programme_id"], {"marketing": 2 * M}, actor(people["approver"])
    )
    txn = api.call(services.record_payment, grant["id"], "marketing", 2 * M, "TRF-A", pay_actor)

    async def events():
        return await (
            AuditEvent.select(AuditEvent.action, AuditEvent.actor, AuditEvent.details)
            .where(AuditEvent.object_type == "ledger_transaction", AuditEvent.object_id == str(txn))
            .output(load_json=True)
        )

    rows = api.call(events)
    assert len(rows) == 1
    assert rows[0]["action"] == "ledger.payment" and rows[0]["actor"] == pay_actor.email
    assert rows[0]["details"]["amount"] == 2 * M and rows[0]["details"]["application"] == grant["id"]


# --- invariants ---------------------------------------------------------------------------------------------------


def test_paying_more_than_approved_is_409_and_moves_nothing(api, people, grant):
    app_id, finance = grant["id"], actor(people["finance"])
    api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 10 * M}, actor(people["approver"]))
    api.call(services.record_payment, app_id, "capital", 6 * M, "TRF-1", finance)
    before = totals(api, app_id)

    problem = fails(api, services.record_payment, app_id, "capital", 4 * M + 1, "TRF-2", finance)
    assert isinstance(problem, Conflict) and problem.status == 409
    assert problem.errors[0].field == "amount"
    problem = fails(api, services.record_payment, app_id, "wages", 1, "TRF-3", finance)  # nothing approved
    assert problem.status == 409
    assert totals(api, app_id) == before

    api.call(services.record_payment, app_id, "capital", 4 * M, "TRF-4", finance)  # exactly the rest is fine
    assert totals(api, app_id)["components"]["capital"] == {"approved": 10 * M, "disbursed": 10 * M}


def test_a_report_never_takes_a_pool_below_zero_and_a_refusal_moves_nothing(api, people, grant):
    """Grant money per component and the group's own money are two pools: neither may go below zero, and one
    never pays for the other."""
    app_id, finance, reviewer = grant["id"], actor(people["finance"]), actor(people["reviewer"])
    api.call(
        services.commit_budget,
        app_id,
        grant["programme_id"],
        {"capital": 10 * M, "wages": 5 * M},
        actor(people["approver"]),
    )
    api.call(services.record_payment, app_id, "capital", 4 * M, "TRF-1", finance)
    api.call(services.record_payment, app_id, "wages", 1 * M, "TRF-2", finance)
    report = {"revenue": 0, "own_spent": 0, "reference": "r", "actor": reviewer}
    before = totals(api, app_id)

    refusals = [
        {**report, "grant_spent": {"capital": 4 * M + 1}},  # more than was paid for the component
        {**report, "grant_spent": {"wages": 1 * M + 1, "capital": 1}},  # one component over, another within
        {**report, "grant_spent": {"marketing": 1}},  # nothing paid for it: the capital money does not cover it
        {**report, "grant_spent": {}, "own_spent": 1},  # no own money yet: grant money does not pay for it
        {**report, "grant_spent": {}, "revenue": 2 * M, "own_spent": 2 * M + 1},  # more than this month's sales
    ]
    for kwargs in refusals:
        problem = fails(api, services.record_report, app_id, **kwargs)
        assert isinstance(problem, Conflict) and problem.status == 409, kwargs
        assert problem.title == services.OVER_POOL, kwargs
    assert totals(api, app_id) == before

    # Exactly what each pool holds is fine; the own money carries over to the next month.
    api.call(
        services.record_report,
        app_id,
        **{**report, "grant_spent": {"capital": 4 * M}, "revenue": 2 * M, "own_spent": 2 * M - 300_000},
    )
    assert api.call(services.pools, app_id) == {"grant": {"capital": 0, "wages": 1 * M}, "own": 300_000}
    api.call(services.record_report, app_id, **{**report, "grant_spent": {"wages": 1 * M}, "own_spent": 300_000})
    assert api.call(services.pools, app_id) == {"grant": {"capital": 0, "wages": 0}, "own": 0}
    problem = fails(api, services.record_report, app_id, **{**report, "grant_spent": {"capital": 1}})
    assert problem.status == 409
    t = totals(api, app_id)
    assert (t["unspent"], t["grant_spent"], t["own_spent"], t["own_balance"]) == (0, 5 * M, 2 * M, 0)
    assert t["spent"] == t["grant_spent"] + t["own_spent"] == 7 * M


def test_the_ledger_itself_refuses_a_posting_that_takes_a_pool_below_zero(api, people, grant):
    """The last line of defence: a posting that skips the services' checks is refused by the ledger."""
    from tkm.ledger.accounts import Kind, report_legs, return_legs
    from tkm.ledger.posting import Posting

    app_id, finance = grant["id"], actor(people["finance"])
    api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 3 * M}, actor(people["approver"]))
    api.call(services.record_payment, app_id, "capital", 2 * M, "TRF-1", finance)
    before = totals(api, app_id)

    def posting(kind, legs):
        return Posting(kind, legs, application_id=app_id, programme_id=grant["programme_id"], reference="x")

    for kind, legs, account in [
        (Kind.report, report_legs(app_id, {"capital": 2 * M + 1}, 0, 0), f"app:{app_id}:grant_cash:capital"),
        (Kind.report, report_legs(app_id, {}, 5, 6), f"app:{app_id}:own_cash"),
        (Kind.deposit, return_legs(app_id, {"capital": 2 * M + 1}), f"app:{app_id}:grant_cash:capital"),
    ]:
        problem = fails(api, services.post, posting(kind, legs), finance)
        assert isinstance(problem, Conflict) and problem.extra == {"account": account}
    assert totals(api, app_id) == before

    # A return of unspent grant money to the treasury lowers what the group holds and reads in the trail.
    api.call(services.post, posting(Kind.deposit, return_legs(app_id, {"capital": 1_500_000})), finance)
    t = totals(api, app_id)
    assert (t["disbursed"], t["returned"], t["unspent"], t["grant_unspent"]) == (2 * M, 1_500_000, 500_000, 500_000)
    assert t["by_component"]["capital"]["returned"] == 1_500_000
    last = trail(api, app_id)[-1]
    assert (last["kind"], last["component"], last["amount"], last["balance_after"]) == (
        "return",
        "capital",
        1_500_000,
        500_000,
    )


def test_a_reversal_that_would_take_a_pool_below_zero_is_refused(api, people, grant):
    """Money already spent cannot be un-paid or un-earned: the reversal would leave a pool below zero."""
    app_id, finance, reviewer = grant["id"], actor(people["finance"]), actor(people["reviewer"])
    api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 5 * M}, actor(people["approver"]))
    pay = api.call(services.record_payment, app_id, "capital", 2 * M, "TRF-1", finance)
    first = api.call(
        services.record_report,
        app_id,
        grant_spent={"capital": 1 * M},
        own_spent=0,
        revenue=600_000,
        reference="2020-04",
        actor=reviewer,
    )
    api.call(
        services.record_report,
        app_id,
        grant_spent={},
        own_spent=500_000,
        revenue=0,
        reference="2020-05",
        actor=reviewer,
    )
    before = totals(api, app_id)

    problem = fails(api, services.reverse, pay, "bank rejected the transfer", finance)
    assert problem.status == 409 and problem.extra == {"account": f"app:{app_id}:grant_cash:capital"}
    problem = fails(api, services.reverse, first, "wrong month", reviewer)
    assert problem.status == 409 and problem.extra == {"account": f"app:{app_id}:own_cash"}
    assert totals(api, app_id) == before


def test_a_programme_never_commits_more_than_its_ceiling(api, people):
    programme_id = make_programme(api, people["admin"], ceiling=20 * M)
    first, second = (make_application(api, people["applicant"], programme_id) for _ in range(2))
    approver = actor(people["approver"])

    api.call(services.commit_budget, first["id"], programme_id, {"capital": 10 * M, "wages": 5 * M}, approver)
    problem = fails(api, services.commit_budget, second["id"], programme_id, {"capital": 5 * M + 1}, approver)
    assert problem.status == 409 and problem.title == "Programme budget exhausted"
    assert problem.extra == {"available": 5 * M, "needed": 5 * M + 1}
    assert api.call(services.programme_committed, programme_id) == 15 * M
    assert totals(api, second["id"])["approved"] == 0

    api.call(services.commit_budget, second["id"], programme_id, {"capital": 5 * M}, approver)
    assert api.call(services.programme_committed, programme_id) == 20 * M
    figures = api.call(services.programme_totals, programme_id)
    assert figures["funded"] == 20 * M and figures["available"] == 0 and figures["committed"] == 20 * M


def test_funding_follows_a_changed_ceiling_without_undoing_commitments(api, people):
    from tkm.programmes.tables import Programme

    programme_id = make_programme(api, people["admin"], ceiling=10 * M)
    apps = [make_application(api, people["applicant"], programme_id) for _ in range(3)]
    approver = actor(people["approver"])

    def set_ceiling(amount):
        api.call(Programme.update({Programme.budget_ceiling: amount}).where(Programme.id == programme_id).run)

    api.call(services.commit_budget, apps[0]["id"], programme_id, {"capital": 8 * M}, approver)
    set_ceiling(15 * M)  # raised: the difference becomes available
    api.call(services.commit_budget, apps[1]["id"], programme_id, {"capital": 7 * M}, approver)
    assert api.call(services.programme_totals, programme_id)["funded"] == 15 * M
    set_ceiling(12 * M)  # lowered below what is committed: nothing more, and the commitments stand
    problem = fails(api, services.commit_budget, apps[2]["id"], programme_id, {"capital": 1}, approver)
    assert problem.title == "Programme budget exhausted"
    figures = api.call(services.programme_totals, programme_id)
    assert (figures["funded"], figures["committed"], figures["available"]) == (15 * M, 15 * M, 0)
    commit = api.call(services._active_commit, apps[1]["id"])
    api.call(services.reverse, commit, "dibatalkan", approver)  # released money above the new ceiling is removed
    figures = api.call(services.programme_totals, programme_id)
    assert (figures["funded"], figures["committed"], figures["available"]) == (12 * M, 8 * M, 4 * M)


def test_a_budget_is_committed_once_unless_the_commitment_is_reversed(api, people, grant):
    app_id, approver = grant["id"], actor(people["approver"])
    first = api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 3 * M}, approver)
    assert fails(api, services.commit_budget, app_id, grant["programme_id"], {"capital": 1}, approver).status == 409

    api.call(services.reverse, first, "approval withdrawn", approver)
    assert totals(api, app_id)["approved"] == 0
    assert api.call(services.programme_committed, grant["programme_id"]) == 0
    api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 2 * M}, approver)
    assert totals(api, app_id)["approved"] == 2 * M


def test_a_paid_commitment_cannot_be_reversed_before_its_payments(api, people, grant):
    app_id, approver, finance = grant["id"], actor(people["approver"]), actor(people["finance"])
    commit = api.call(services.commit_budget, app_id, grant["programme_id"], {"capital": 3 * M}, approver)
    pay = api.call(services.record_payment, app_id, "capital", 1 * M, "TRF-1", finance)
    assert fails(api, services.reverse, commit, "withdrawn", approver).status == 409
    api.call(services.reverse, pay, "bank rejected the transfer", finance)
    api.call(services.reverse, commit, "withdrawn", approver)
    assert totals(api, app_id)["approved"] == 0 and totals(api, app_id)["disbursed"] == 0


def test_a_failed_payment_is_reversed_once_and_the_money_returns_to_committed(api, people, grant):
    app_id, finance = grant["id"], actor(people["finance"])
    api.call(services.commit_budget, app_id, grant["programme_id"], {"wages": 8 * M}, actor(people["approver"]))
    pay = api.call(services.record_payment, app_id, "wages", 8 * M, "TRF-9", finance)
    reversal = api.call(services.reverse, pay, "account closed", finance)

    t = totals(api, app_id)
    assert t["components"]["wages"] == {"approved": 8 * M, "disbursed": 0} and t["unspent"] == 0
    last = trail(api, app_id)[-1]
    assert (last["kind"], last["amount"], last["reverses"], last["notes"]) == (
        "reversal",
        -8 * M,
        pay,
        "account closed",
    )
    assert last["balance_after"] == 0

    again = fails(api, services.reverse, pay, "again", finance)
    assert again.status == 409 and again.extra == {"reversed_by": reversal}
    assert fails(api, services.reverse, reversal, "undo the undo", finance).status == 409
    assert isinstance(fails(api, services.reverse, 10**9, "nothing", finance), NotFound)
    assert fails(api, services.reverse, pay, "  ", finance).errors[0].field == "reason"
    # The money can be paid again after the failure.
    api.call(services.record_payment, app_id, "wages", 8 * M, "TRF-10", finance)
    assert totals(api, app_id)["disbursed"] == 8 * M


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100", None, 10**15 + 1])
def test_payment_amounts_must_be_positive_whole_rupiah(api, people, grant, amount):
    problem = fails(api, services.record_payment, grant["id"], "capital", amount, "TRF", actor(people["finance"]))
    assert isinstance(problem, ValidationProblem) and problem.status == 422
    assert [e.field for e in problem.errors] == ["amount"]


def test_bad_input_names_the_field(api, people, grant):
    app_id, pid = grant["id"], grant["programme_id"]
    who = actor(people["approver"])
    cases = [
        (services.commit_budget, (app_id, pid, {"capital": -5}, who), {}, "budget.capital"),
        (services.commit_budget, (app_id, pid, {"capital": 0}, who), {}, "budget.capital"),
        (services.commit_budget, (app_id, pid, {"boats": 5}, who), {}, "budget.boats"),
        (services.commit_budget, (app_id, pid, {}, who), {}, "budget"),
        (services.record_payment, (app_id, "boats", 5, "x", who), {}, "component"),
        (services.record_payment, (app_id, "capital", 5, "x" * 201, who), {}, "reference"),
    ]
    report = {"grant_spent": {}, "revenue": 0, "own_spent": 0, "reference": "2020-05", "actor": who}
    cases += [
        (services.record_report, (app_id,), {**report, "revenue": -1}, "revenue"),
        (services.record_report, (app_id,), {**report, "own_spent": 2.5}, "own_spent"),
        (services.record_report, (app_id,), {**report, "grant_spent": {"fuel": 5}}, "grant_spent.fuel"),
        (services.record_report, (app_id,), {**report, "grant_spent": {"capital": -5}}, "grant_spent.capital"),
        (services.record_report, (app_id,), {**report, "grant_spent": {"wages": 1.5}}, "grant_spent.wages"),
        (services.record_report, (app_id,), {**report, "grant_spent": [5]}, "grant_spent"),
        (services.record_report, (app_id,), {**report, "reference": 5}, "reference"),
        (services.record_report, (app_id,), report, "expenses"),  # nothing to post
    ]
    for fn, args, kwargs, field in cases:
        problem = fails(api, fn, *args, **kwargs)
        assert problem.status == 422, (fn.__name__, args, kwargs)
        assert [e.field for e in problem.errors] == [field], (fn.__name__, args, kwargs)
    assert totals(api, app_id)["approved"] == 0


def test_commit_in_another_programme_is_refused(api, people, grant):
    other = make_programme(api, people["admin"], ceiling=50 * M)
    problem = fails(api, services.commit_budget, grant["id"], other, {"capital": M}, actor(people["approver"]))
    assert problem.status == 422 and problem.errors[0].field == "programme_id"


def test_unknown_application_is_404(api, people):
    finance = actor(people["finance"])
    assert isinstance(fails(api, services.record_payment, 10**8, "capital", 5, "x", finance), NotFound)
    r = api.client.get("/api/v1/applications/100000000/funds-trail", headers=people["auditor"]["headers"])
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_concurrent_commits_and_payments_never_overshoot(api, people):
    """Row locks (PostgreSQL) and IMMEDIATE transactions (SQLite) serialise the checks with the postings."""
    import asyncio

    programme_id = make_programme(api, people["admin"], ceiling=10 * M)
    apps = [make_application(api, people["applicant"], programme_id) for _ in range(5)]
    approver, finance = actor(people["approver"]), actor(people["finance"])

    async def attempt(fn, *args):
        try:
            await fn(*args)
        except Conflict:
            return "refused"
        return "ok"

    async def commit_race():
        return await asyncio.gather(
            *(attempt(services.commit_budget, a["id"], programme_id, {"capital": 3 * M}, approver) for a in apps)
        )

    outcomes = api.call(commit_race)
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 2
    assert api.call(services.programme_committed, programme_id) == 9 * M
    winner = apps[outcomes.index("ok")]["id"]

    async def pay_race():
        return await asyncio.gather(
            *(attempt(services.record_payment, winner, "capital", M, f"TRF-{i}", finance) for i in range(5))
        )

    assert sorted(api.call(pay_race)) == ["ok"] * 3 + ["refused"] * 2
    assert totals(api, winner)["components"]["capital"] == {"approved": 3 * M, "disbursed": 3 * M}


def test_approvals_reversals_and_payments_side_by_side_do_not_deadlock(api, people):
    """Every ledger command takes its locks in one order (application, audit head, programme, ledger head)."""
    import asyncio

    from tkm.workflow import engine

    programme_id = make_programme(api, people["admin"], ceiling=1000 * M)
    approver, finance = actor(people["approver"]), actor(people["finance"])
    for _round in range(3):
        pending = make_application(
            api, people["applicant"], programme_id, status="recommended", recommended_budget={"capital": 5 * M}
        )
        committed = make_application(api, people["applicant"], programme_id)
        paying = make_application(api, people["applicant"], programme_id)
        commit = api.call(services.commit_budget, committed["id"], programme_id, {"wages": 4 * M}, approver)
        api.call(services.commit_budget, paying["id"], programme_id, {"marketing": 4 * M}, approver)

        async def side_by_side(pending_id, commit_id, paying_id):
            return await asyncio.gather(
                engine.perform(pending_id, "approve", approver, {}),
                services.reverse(commit_id, "keputusan dibatalkan", approver),
                services.record_payment(paying_id, "marketing", 2 * M, "TRF", finance),
                services.record_report(paying_id, grant_spent={}, own_spent=1, revenue=1, reference="r", actor=finance),
            )

        api.call(side_by_side, pending["id"], commit, paying["id"])
        assert totals(api, pending["id"])["approved"] == 5 * M
        assert totals(api, committed["id"])["approved"] == 0
        assert totals(api, paying["id"])["disbursed"] == 2 * M
    assert api.call(services.verify) is None


# --- the approve action ---------------------------------------------------------------------------------------


def approve(api, people, application_id):
    from tkm.workflow import engine

    async def run():
        ctx = await engine.perform(application_id, "approve", actor(people["approver"]), {"notes": "disetujui"})
        return ctx.results

    return api.call(run)


def status_of(api, application_id):
    from tkm.core import db

    row = api.call(db.fetch_one, "SELECT status, approved_total FROM applications WHERE id = {}", application_id)
    return dict(row)


def test_approving_commits_the_recommended_budget(api, people):
    programme_id = make_programme(api, people["admin"], ceiling=30 * M)
    budget = {"capital": 12 * M, "marketing": 3 * M, "wages": 0}
    app = make_application(api, people["applicant"], programme_id, status="recommended", recommended_budget=budget)

    results = approve(api, people, app["id"])
    assert results["approved_budget"] == {"capital": 12 * M, "marketing": 3 * M}
    assert status_of(api, app["id"]) == {"status": "approved", "approved_total": 15 * M}
    t = totals(api, app["id"])
    assert t["approved"] == 15 * M and set(t["components"]) == {"capital", "marketing"}
    assert trail(api, app["id"])[0]["transaction_id"] == results["commit_transaction"]
    assert api.call(services.programme_committed, programme_id) == 15 * M


def test_approval_beyond_the_budget_is_refused_and_changes_nothing(api, people):
    programme_id = make_programme(api, people["admin"], ceiling=20 * M)
    first = make_application(
        api, people["applicant"], programme_id, status="recommended", recommended_budget={"capital": 15 * M}
    )
    second = make_application(
        api, people["applicant"], programme_id, status="recommended", recommended_budget={"capital": 6 * M}
    )
    approve(api, people, first["id"])
    with pytest.raises(Conflict) as info:
        approve(api, people, second["id"])
    assert info.value.title == "Programme budget exhausted"
    # One command, one transaction: the state change and the history event rolled back with the ledger.
    assert status_of(api, second["id"]) == {"status": "recommended", "approved_total": 0}
    assert totals(api, second["id"])["approved"] == 0
    assert api.call(services.programme_committed, programme_id) == 15 * M


def test_approving_over_http_commits_and_shows_in_the_funds_trail(api):
    from tests.support.factories import World

    w = World(api)
    app = w.to_state(w.new_application()["id"], "approved")
    assert app["status"] == "approved"
    r = w.get(f"/api/v1/applications/{app['id']}/funds-trail", w.applicant)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"]["approved"] == sum(app["approved_budget"].values()) > 0
    assert {c: v["approved"] for c, v in body["totals"]["components"].items()} == {
        c: v for c, v in app["approved_budget"].items() if v
    }
    assert [e["kind"] for e in body["entries"]] == ["commit"] * len(body["totals"]["components"])
    approver_name = w.get("/api/v1/me", w.approver).json()["name"]
    assert {e["actor"] for e in body["entries"]} == {approver_name}


# --- GET /api/v1/applications/{id}/funds-trail ------------------------------------------------------------------


@pytest.fixture
def paid_grant(api, people, grant, cache):
    app_id = grant["id"]
    api.call(
        services.commit_budget,
        app_id,
        grant["programme_id"],
        {"capital": 9 * M, "wages": 4 * M},
        actor(people["approver"]),
    )
    finance = actor(people["finance"])
    pay = api.call(services.record_payment, app_id, "capital", 5 * M, '=HYPERLINK("http://x")', finance)
    api.call(services.reverse, pay, "rekening ditutup", finance)
    api.call(services.record_payment, app_id, "capital", 5 * M, "TRF-2", finance)
    api.call(services.record_payment, app_id, "wages", 2 * M, "TRF-3", finance)
    api.call(
        services.record_report,
        app_id,
        grant_spent={"capital": 2_345_678, "wages": 1 * M},
        own_spent=750_000,
        revenue=4_500_000,
        reference="2020-04",
        actor=actor(people["reviewer"]),
    )
    return grant


def test_funds_trail_json(api, people, paid_grant):
    r = api.client.get(f"/api/v1/applications/{paid_grant['id']}/funds-trail", headers=people["applicant"]["headers"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {
        "approved": 13 * M,
        "disbursed": 7 * M,
        "spent": 3_345_678 + 750_000,
        "revenue": 4_500_000,
        "reinvested": 750_000,
        "unspent": 7 * M - 3_345_678,
        "grant_spent": 3_345_678,
        "grant_unspent": 7 * M - 3_345_678,
        "own_spent": 750_000,
        "own_balance": 4_500_000 - 750_000,
        "returned": 0,
        "released": 0,
        "by_component": {
            "capital": {
                "approved": 9 * M,
                "disbursed": 5 * M,
                "grant_spent": 2_345_678,
                "returned": 0,
                "unspent": 5 * M - 2_345_678,
            },
            "wages": {"approved": 4 * M, "disbursed": 2 * M, "grant_spent": 1 * M, "returned": 0, "unspent": 1 * M},
        },
        "components": {
            "capital": {"approved": 9 * M, "disbursed": 5 * M},
            "wages": {"approved": 4 * M, "disbursed": 2 * M},
        },
    }
    entries = body["entries"]
    assert {"at", "kind", "component", "amount", "reference", "actor", "balance_after"} <= entries[0].keys()
    assert [(e["kind"], e["component"]) for e in entries] == [
        ("commit", "capital"),
        ("commit", "wages"),
        ("payment", "capital"),
        ("reversal", "capital"),
        ("payment", "capital"),
        ("payment", "wages"),
        ("report_revenue", ""),
        ("report_expense", "capital"),
        ("report_expense", "wages"),
        ("report_reinvestment", ""),
    ]
    assert [e["balance_after"] for e in entries] == [
        0,
        0,
        5 * M,
        0,
        5 * M,
        7 * M,
        7 * M,
        4_654_322,
        3_654_322,
        3_654_322,
    ]
    assert entries[-1]["balance_after"] == body["totals"]["unspent"]
    assert all(isinstance(e["amount"], int) and isinstance(e["balance_after"], int) for e in entries)
    assert entries[0]["actor"] == people["approver"]["email"].split("@")[0]


def test_funds_trail_csv_streams_the_same_numbers(api, people, paid_grant):
    url = f"/api/v1/applications/{paid_grant['id']}/funds-trail"
    as_json = api.client.get(url, headers=people["finance"]["headers"]).json()
    r = api.client.get(url, params={"format": "csv"}, headers=people["finance"]["headers"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "content-length" not in r.headers  # streamed
    assert r.headers["content-disposition"] == f'attachment; filename="funds-trail-{paid_grant["id"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == len(as_json["entries"])
    for row, entry in zip(rows, as_json["entries"], strict=True):
        assert int(row["Jumlah (Rp)"]) == entry["amount"]
        assert int(row["Saldo setelahnya (Rp)"]) == entry["balance_after"]
        # Words for the codes of the JSON, the day of the moment.
        assert row["Uraian"] == label(entry["kind"], "entry") != entry["kind"]
        code = entry["component"]
        assert row["Komponen"] == (label(code, "trail_component") if code else "")
        assert not code or row["Komponen"] != code
        assert row["Tanggal"] == excel_date(entry["at"]).isoformat()
    # A reference that a spreadsheet would run as a formula is written as text.
    assert rows[2]["Referensi"] == '\'=HYPERLINK("http://x")'
    assert as_json["entries"][2]["reference"] == '=HYPERLINK("http://x")'


def test_funds_trail_xlsx_has_the_same_numbers(api, people, paid_grant):
    url = f"/api/v1/applications/{paid_grant['id']}/funds-trail"
    as_json = api.client.get(url, headers=people["auditor"]["headers"]).json()
    r = api.client.get(url, params={"format": "xlsx"}, headers=people["auditor"]["headers"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    trail_sheet, totals_sheet = book.worksheets
    rows = list(trail_sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == len(as_json["entries"])
    for values, entry in zip(data, as_json["entries"], strict=True):
        row = dict(zip(header, values, strict=True))
        assert row["Jumlah (Rp)"] == entry["amount"] and row["Saldo setelahnya (Rp)"] == entry["balance_after"]
        assert row["Uraian"] == label(entry["kind"], "entry") != entry["kind"]
    assert data[2][header.index("Referensi")] == '\'=HYPERLINK("http://x")'  # text, not a formula
    figures = {name: value for name, value in totals_sheet.iter_rows(min_row=2, values_only=True)}
    words = {
        "approved": "Disetujui",
        "disbursed": "Dibayar ke kelompok",
        "spent": "Dibelanjakan",
        "revenue": "Penjualan",
        "reinvested": "Diinvestasikan kembali",
        "unspent": "Belum dibelanjakan",
    }
    for name, word in words.items():
        assert figures[word] == as_json["totals"][name]
    assert figures["Modal kerja: Dibayar ke kelompok"] == 5 * M


@pytest.mark.parametrize("fmt", ["odt", "xml", ""])
def test_unknown_format_is_415_naming_format(api, people, paid_grant, fmt):
    r = api.client.get(
        f"/api/v1/applications/{paid_grant['id']}/funds-trail",
        params={"format": fmt} if fmt else {"format": "docx"},
        headers=people["auditor"]["headers"],
    )
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "format"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("applicant", 200),
        ("other_applicant", 404),
        ("reviewer", 200),
        ("reviewer_elsewhere", 404),
        ("approver", 200),
        ("finance", 200),
        ("auditor", 200),
        ("admin", 200),
        (None, 401),
    ],
)
def test_funds_trail_access_follows_the_application(api, people, paid_grant, who, status):
    headers = people[who]["headers"] if who else {}
    for fmt in (None, "csv", "xlsx"):
        r = api.client.get(
            f"/api/v1/applications/{paid_grant['id']}/funds-trail",
            params={"format": fmt} if fmt else {},
            headers=headers,
        )
        assert r.status_code == status, (who, fmt, r.text)
        if status == 404:
            assert "entries" not in r.text and "TRF" not in r.text


def test_funds_trail_is_in_the_openapi_schema(api):
    r = api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    operation = r.json()["paths"]["/api/v1/applications/{application_id}/funds-trail"]["get"]
    assert "balance_after" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} >= {"application_id", "format"}


def test_the_chain_verifies_after_all_of_this(api):
    assert api.call(services.verify) is None
    debits, credits, unbalanced = ledger_sums(api)
    assert debits == credits > 0 and unbalanced == []


def test_refusals_speak_indonesian_by_default_and_english_on_request(api, people, grant):
    url = f"/api/v1/applications/{grant['id']}/funds-trail"
    r = api.client.get(url, params={"format": "odt"}, headers=people["auditor"]["headers"])
    assert r.json()["detail"] == "Format odt tidak dikenal; gunakan salah satu dari json, csv, xlsx, pdf."
    r = api.client.get(url, params={"format": "odt", "lang": "en"}, headers=people["auditor"]["headers"])
    assert r.json()["detail"] == "Unknown format odt; use one of json, csv, xlsx, pdf."
