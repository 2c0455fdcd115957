"""The funds trail: post balanced, hash-chained ledger transactions; read totals and trails.

The chart of accounts and the legs of every posting are in ``tkm.ledger.accounts``
(balance = debits − credits; an entry's amount is > 0 for a debit, < 0 for a credit).

Every function that writes runs inside ``db.transaction()`` and joins the caller's
transaction when there is one, so a workflow action's state change, history,
audit event and ledger entries commit together. These services trust their
caller for *who may* move money (the workflow engine and the disbursement
services check roles and access); they enforce *whether* money may move:

- every transaction balances (here, and on PostgreSQL again at COMMIT by a
  deferred constraint trigger);
- a programme never commits more than its ``budget_ceiling`` (its ``available``
  account never goes below zero), and a component never pays out more than was
  approved (``committed`` never goes below zero);
- entries are never changed: corrections are reversals (one per transaction,
  a unique index), and triggers refuse UPDATE/DELETE on both engines;
- money that will not be paid goes back to the programme by a release
  (``release_commitments``), which is final: it is not reversed;
- each entry is a link of the ``ledger`` hash chain; ``verify()`` walks it.

Locks are taken in one order everywhere, so concurrent commands cannot
deadlock on PostgreSQL: the application row, then the audit chain head (by
writing the audit event), then the programme row, then the ledger chain head.
The workflow engine follows the same order (it locks the application and
audits before running effects). SQLite's IMMEDIATE transactions serialise
writers instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.core import audit, cells, db, hashchain
from tkm.core.errors import Conflict, FieldError, NotFound, ValidationProblem
from tkm.core.i18n import N_, _
from tkm.core.money import rupiah
from tkm.ledger import activity
from tkm.ledger.accounts import (
    MAX_AMOUNT,
    NON_NEGATIVE,
    TRAIL_ACCOUNTS,
    Account,
    Kind,
    Leg,
    TrailLine,
    amendment_legs,
    application_account,
    commit_legs,
    funding_legs,
    payment_legs,
    programme_account,
    release_legs,
    report_legs,
    reversal_legs,
    summarise,
    trail_line,
)
from tkm.ledger.posting import Posting, check_balanced, entry_fields, header
from tkm.ledger.tables import LedgerEntry, LedgerTransaction
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.tables import Programme

CHAIN = "ledger"
BUDGET_EXHAUSTED = N_("Programme budget exhausted")
OVER_APPROVED = N_("More than approved")
OVER_POOL = N_("More than the group holds")


# --- input checks --------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount_error(value: Any, *, allow_zero: bool) -> str | None:
    if not _is_int(value):
        return _("Must be a whole number of rupiah.")
    if value < 0 or (value == 0 and not allow_zero):
        return _("Must be zero or more.") if allow_zero else _("Must be more than zero.")
    if value > MAX_AMOUNT:
        return _("Must be at most %(max)s.", max=rupiah(MAX_AMOUNT))
    return None


def _check_reference(value: Any, errors: list[FieldError], field: str = "reference") -> str:
    if not isinstance(value, str):
        errors.append(FieldError(field, _("Must be text.")))
        return ""
    if len(value) > 200:
        errors.append(FieldError(field, _("At most %(n)d characters.", n=200)))
    return value.strip()


# --- reading rows -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _App:
    id: int
    programme_id: int
    group_id: int


_APP_SQL = "SELECT id, programme, group_id FROM applications WHERE id = {}"
# NO KEY UPDATE, not UPDATE: the FOR KEY SHARE lock that a foreign key takes when another transaction inserts a
# row pointing here (a ledger transaction referencing its programme, written before that transaction reaches
# the programme lock) must not block us, or the two deadlock.
_APP_LOCK_SQL = _APP_SQL + " FOR NO KEY UPDATE"


async def _load_application(application_id: int, *, lock: bool) -> _App:
    if not _is_int(application_id):
        raise ValidationProblem([FieldError("application_id", _("Must be a whole number."))])
    row = await db.fetch_one(_APP_LOCK_SQL if lock and not db.is_sqlite() else _APP_SQL, application_id)
    if row is None:
        raise NotFound(_("Application %(id)s not found.", id=application_id))
    return _App(int(row["id"]), int(row["programme"]), int(row["group_id"]))


def _sum(expr: str) -> str:
    """SUM as a BIGINT on both engines (PostgreSQL's SUM(bigint) is numeric)."""
    return f"CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"


async def _balance(code: str) -> int:
    row = await db.fetch_one(
        f"SELECT {_sum('e.amount')} AS balance FROM ledger_entries e "  # noqa: S608 - constant SQL
        "JOIN ledger_accounts a ON a.id = e.account WHERE a.code = {}",
        code,
    )
    return int(row["balance"]) if row else 0


# --- posting ------------------------------------------------------------------------------------------------------


async def _account_ids(accounts: Sequence[Account]) -> dict[str, int]:
    now = dt.datetime.now(dt.UTC)
    unique = {a.code: a for a in accounts}
    for account in unique.values():
        await db.execute(
            "INSERT INTO ledger_accounts (code, owner_kind, owner_id, name, component, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (code) DO NOTHING",
            account.code,
            account.owner_kind,
            account.owner_id,
            account.name,
            account.component,
            now,
        )
    ids: dict[str, int] = {}
    for code in unique:
        row = await db.fetch_one("SELECT id FROM ledger_accounts WHERE code = {}", code)
        assert row is not None
        ids[code] = int(row["id"])
    return ids


async def _open(posting: Posting, actor: CurrentUser | None) -> dict[str, Any]:
    """Write a transaction's header and its audit event; the entries follow with ``_write``."""
    txn = header(posting, None, actor, dt.datetime.now(dt.UTC))
    rows = await LedgerTransaction.insert(
        LedgerTransaction(
            kind=txn["kind"],
            application=txn["application"],
            programme=txn["programme"],
            component=txn["component"],
            reference=txn["reference"],
            memo=txn["memo"],
            reverses=txn["reverses"],
            actor_id=txn["actor_id"],
            actor=txn["actor"],
            actor_name=txn["actor_name"],
            at=txn["at"],
            period=txn["period"],
            value_date=txn["value_date"],
        )
    ).returning(LedgerTransaction.id)
    txn["id"] = int(rows[0]["id"])
    await audit.record(
        f"ledger.{posting.kind}",
        actor_id=txn["actor_id"],
        actor=txn["actor"],
        object_type="ledger_transaction",
        object_id=txn["id"],
        details={"application": posting.application_id, "programme": posting.programme_id, **posting.audit_details},
    )
    return txn


async def _write(txn: dict[str, Any], legs: list[Leg]) -> None:
    """Append the entries (each a link of the hash chain), then re-check the accounts that may not go negative."""
    check_balanced(txn, legs)
    ids = await _account_ids([account for account, _amount in legs])
    for account, amount in legs:
        entry_application = txn["application"]
        link = await hashchain.append(CHAIN, entry_fields(txn, account.code, amount, entry_application))
        await LedgerEntry.insert(
            LedgerEntry(
                seq=link.seq,
                txn=txn["id"],
                account=ids[account.code],
                amount=amount,
                application_id=entry_application,
                prev_hash=link.prev_hash,
                hash=link.hash,
            )
        )
    await activity.add(txn, legs)
    for code in sorted({a.code for a, _amount in legs if a.name in NON_NEGATIVE}):
        balance = await _balance(code)
        if balance < 0:  # the services check first with a clearer message; this is the last line of defence
            raise Conflict(
                _(
                    "This would take %(what)s below zero (%(balance)s).",
                    what=_account_words(code),
                    balance=rupiah(balance),
                ),
                extra={"account": code},
            )


async def _lock_programme(programme_id: int) -> dict[str, Any]:
    query = Programme.select(Programme.id, Programme.code, Programme.budget_ceiling).where(Programme.id == programme_id)
    if not db.is_sqlite():  # see _APP_LOCK_SQL for why NO KEY UPDATE
        query = query.lock_rows("NO KEY UPDATE")
    programme = await query.first()
    if programme is None:
        raise NotFound(_("Programme %(id)s not found.", id=programme_id))
    return programme


async def _sync_funding(programme: dict[str, Any], actor: CurrentUser | None) -> None:
    """Make the programme's appropriation follow its current budget_ceiling (the programme row is locked).

    A lowered ceiling takes back only what is not committed; commitments already made stand, and the rest
    is taken back as commitments are released.
    """
    programme_id = int(programme["id"])
    funded = -await _balance(programme_account(programme_id, "appropriation").code)
    available = await _balance(programme_account(programme_id, "available").code)
    difference = max(int(programme["budget_ceiling"]) - funded, -available)
    if difference:
        await post(
            Posting(
                Kind.funding,
                funding_legs(programme_id, difference),
                programme_id=programme_id,
                reference=f"budget_ceiling {programme['budget_ceiling']}",
                audit_details={"budget_ceiling": programme["budget_ceiling"], "change": difference},
            ),
            actor,
        )


# --- the service API ----------------------------------------------------------------------------------------------


async def post(posting: Posting, actor: CurrentUser | None) -> int:
    """Write one balanced posting in the caller's transaction (or its own): the transaction, its audit event,
    its entries as links of the hash chain and the monthly activity, then the check that no account that may
    not go negative did. Returns the transaction id. The services below check *whether* money may move first."""
    async with db.transaction():
        txn = await _open(posting, actor)
        await _write(txn, posting.legs)
        return int(txn["id"])


async def post_many(postings: Sequence[Posting], actor: CurrentUser | None) -> list[int]:
    """Several postings in one transaction, in order (e.g. a re-plan that moves money between components)."""
    async with db.transaction():
        return [await post(posting, actor) for posting in postings]


async def commit_budget(
    application_id: int, programme_id: int, budget: dict[str, int], actor: CurrentUser | None
) -> int:
    """Commit an approved budget ``{component: rupiah}`` against the programme; returns the transaction id.

    409 when the application already has a commitment that was not reversed, or when the programme's
    remaining budget is smaller than the total ("programme budget exhausted").
    """
    errors: list[FieldError] = []
    if not isinstance(budget, dict) or not budget:
        errors.append(FieldError("budget", _("Give an amount in rupiah for at least one component.")))
    else:
        for component, amount in budget.items():
            if component not in COMPONENTS:
                errors.append(FieldError(f"budget.{component}", _("Unknown component %(name)s.", name=component)))
            elif problem := _amount_error(amount, allow_zero=False):
                errors.append(FieldError(f"budget.{component}", problem))
    if errors:
        raise ValidationProblem(errors)
    total = sum(budget.values())
    async with db.transaction():
        app = await _load_application(application_id, lock=True)
        if app.programme_id != programme_id:
            raise ValidationProblem(
                [FieldError("programme_id", _("Application %(id)s is not in this programme.", id=application_id))]
            )
        if await _active_commit(application_id) is not None:
            raise Conflict(_("The budget of application %(id)s is already committed.", id=application_id))
        commitment = Posting(
            Kind.commit,
            commit_legs(programme_id, application_id, budget),
            application_id=application_id,
            programme_id=programme_id,
            audit_details={"budget": budget, "total": total},
        )
        # Not post(): the programme is locked between the audit event and the entries (the one lock order).
        txn = await _open(commitment, actor)
        programme = await _lock_programme(programme_id)
        await _sync_funding(programme, actor)
        available = await _balance(programme_account(programme_id, "available").code)
        if total > available:
            raise Conflict(
                _(
                    "Programme %(code)s budget exhausted: %(available)s is left, this approval needs %(total)s.",
                    code=programme["code"],
                    available=rupiah(available),
                    total=rupiah(total),
                ),
                title=BUDGET_EXHAUSTED,
                extra={"available": available, "needed": total},
            )
        await _write(txn, commitment.legs)
        return int(txn["id"])


async def _active_commit(application_id: int) -> int | None:
    row = await db.fetch_one(
        "SELECT t.id FROM ledger_transactions t WHERE t.application = {} AND t.kind = 'commit' "
        "AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverses = t.id) ORDER BY t.id DESC LIMIT 1",
        application_id,
    )
    return int(row["id"]) if row else None


async def record_payment(
    application_id: int,
    component: str,
    amount: int,
    reference: str,
    actor: CurrentUser | None,
    *,
    paid_on: dt.date | None = None,
) -> int:
    """Pay ``amount`` of an approved ``component`` to the group; returns the transaction id.

    ``paid_on`` (the transfer date) puts the payment in its month; without it, the month it is posted.

    409 when it would pay out more than was approved for the component.
    """
    errors: list[FieldError] = []
    if component not in COMPONENTS:
        errors.append(FieldError("component", _("Unknown component %(name)s.", name=component)))
    if problem := _amount_error(amount, allow_zero=False):
        errors.append(FieldError("amount", problem))
    reference = _check_reference(reference, errors)
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        app = await _load_application(application_id, lock=True)
        committed = await _balance(application_account(application_id, "committed", component).code)
        if amount > committed:
            disbursed = await _balance(application_account(application_id, "disbursed", component).code)
            raise Conflict(
                _(
                    "Paying %(amount)s of %(component)s would exceed the approved amount: "
                    "approved %(approved)s, already paid %(paid)s.",
                    amount=rupiah(amount),
                    component=component,
                    approved=rupiah(committed + disbursed),
                    paid=rupiah(disbursed),
                ),
                title=OVER_APPROVED,
                errors=[FieldError("amount", _("At most %(max)s.", max=rupiah(committed)))],
            )
        return await post(
            Posting(
                Kind.payment,
                payment_legs(application_id, component, amount),
                application_id=application_id,
                programme_id=app.programme_id,
                component=component,
                reference=reference,
                period=paid_on.strftime("%Y-%m") if paid_on else None,
                value_date=paid_on,
                audit_details={"component": component, "amount": amount, "reference": reference},
            ),
            actor,
        )


async def grant_unspent(application_id: int) -> int:
    """The grant money a grant's group still holds, all components together."""
    return sum((await pools(application_id))["grant"].values())


async def pools(application_id: int) -> dict[str, Any]:
    """The money a grant's group holds: ``{"grant": {component: rupiah}, "own": rupiah}`` (both never below zero)."""
    rows = await db.fetch(
        f"SELECT a.name, a.component, {_sum('e.amount')} AS balance FROM ledger_entries e "  # noqa: S608
        "JOIN ledger_accounts a ON a.id = e.account WHERE e.application_id = {} "
        "AND a.name IN ('grant_cash', 'own_cash') GROUP BY a.name, a.component",
        application_id,
    )
    grant = {r["component"]: int(r["balance"]) for r in rows if r["name"] == "grant_cash"}
    own = sum(int(r["balance"]) for r in rows if r["name"] == "own_cash")
    return {"grant": grant, "own": own}


async def record_report(
    application_id: int,
    *,
    grant_spent: dict[str, int],
    own_spent: int,
    revenue: int,
    reference: str,
    actor: CurrentUser | None,
    period: str | None = None,
) -> int:
    """Post an accepted report: its sales revenue into the group's own money, grant-funded spending out of each
    component's grant money and sales-funded spending (reinvestment) out of the own money; returns the
    transaction id.

    409 when a pool would go below zero: more grant money spent on a component than the group holds of it, or
    more own money than its earlier balance plus this revenue. A report with nothing to post is 422 (callers
    skip empty reports).
    """
    errors: list[FieldError] = []
    if not isinstance(grant_spent, dict):
        errors.append(FieldError("grant_spent", _("Give amounts by component.")))
        grant_spent = {}
    for component, amount in grant_spent.items():
        if component not in COMPONENTS:
            errors.append(FieldError(f"grant_spent.{component}", _("Unknown component %(name)s.", name=component)))
        elif problem := _amount_error(amount, allow_zero=True):
            errors.append(FieldError(f"grant_spent.{component}", problem))
    for name, value in (("revenue", revenue), ("own_spent", own_spent)):
        if problem := _amount_error(value, allow_zero=True):
            errors.append(FieldError(name, problem))
    reference = _check_reference(reference, errors)
    if errors:
        raise ValidationProblem(errors)
    if not any(grant_spent.values()) and not revenue and not own_spent:
        raise ValidationProblem([FieldError("expenses", _("The report has no amounts to post."))])
    async with db.transaction():
        app = await _load_application(application_id, lock=True)
        held = await pools(application_id)
        for component, amount in grant_spent.items():
            if amount > held["grant"].get(component, 0):
                raise Conflict(
                    _(
                        "The group holds %(held)s of grant money for %(component)s; the report spends %(amount)s.",
                        held=rupiah(held["grant"].get(component, 0)),
                        component=_component_label(component),
                        amount=rupiah(amount),
                    ),
                    title=OVER_POOL,
                )
        if own_spent > held["own"] + revenue:
            raise Conflict(
                _(
                    "The group has %(held)s of its own money (with this month's sales); the report spends %(amount)s "
                    "of it.",
                    held=rupiah(held["own"] + revenue),
                    amount=rupiah(own_spent),
                ),
                title=OVER_POOL,
            )
        return await post(
            Posting(
                Kind.report,
                report_legs(application_id, grant_spent, revenue, own_spent),
                application_id=application_id,
                programme_id=app.programme_id,
                reference=reference,
                period=period,
                value_date=_last_day(period) if period else None,
                audit_details={
                    "grant_spent": grant_spent,
                    "own_spent": own_spent,
                    "revenue": revenue,
                    "reference": reference,
                },
            ),
            actor,
        )


async def release_commitments(application_id: int, actor: CurrentUser | None, reason: str) -> int:
    """Give what is still committed to the application back to its programme's available money; returns the
    rupiah released (0, and nothing posted, when nothing is committed).

    For a grant that will pay no more: a terminated grant (after its unpaid tranches are frozen) or a
    completed one. Runs in the caller's transaction; the lock order is the module's (application, audit
    event, programme, ledger chain head).
    """
    errors: list[FieldError] = []
    reason = _check_reason(reason, errors)
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        app = await _load_application(application_id, lock=True)
        committed = {
            component: balance
            for component in COMPONENTS
            if (balance := await _balance(application_account(application_id, "committed", component).code)) > 0
        }
        total = sum(committed.values())
        if not total:
            return 0
        release = Posting(
            Kind.release,
            release_legs(app.programme_id, application_id, committed),
            application_id=application_id,
            programme_id=app.programme_id,
            memo=reason,
            audit_details={"released": committed, "total": total, "reason": reason},
        )
        # Not post(): the programme is locked between the audit event and the entries (the one lock order).
        txn = await _open(release, actor)
        programme = await _lock_programme(app.programme_id)
        await _write(txn, release.legs)
        await _sync_funding(programme, actor)  # a lowered ceiling takes back what this released
        return total


async def amend_commitments(
    application_id: int, change: dict[str, int], actor: CurrentUser | None, *, reference: str = "", memo: str = ""
) -> int | None:
    """Move an application's commitments between components by ``change`` ``{component: new − old approved}``
    in one balanced ``amendment`` posting; returns the transaction id (None when nothing changes).

    A budget amendment never raises the total (the net change is ≤ 0: what it gives up goes back to the
    programme's available money) and never takes a component's commitment below zero (paid money stays).
    Runs in the caller's transaction, in the module's lock order (application, audit event, programme, chain).
    """
    errors: list[FieldError] = []
    for component, amount in change.items():
        if component not in COMPONENTS:
            errors.append(FieldError(f"budget.{component}", _("Unknown component %(name)s.", name=component)))
        elif not _is_int(amount) or abs(amount) > MAX_AMOUNT:
            errors.append(FieldError(f"budget.{component}", _("Must be a whole number.")))
    if not errors and sum(change.values()) > 0:
        errors.append(FieldError("budget", _("An amendment may not raise the approved total.")))
    if errors:
        raise ValidationProblem(errors)
    change = {c: a for c, a in change.items() if a}
    if not change:
        return None
    async with db.transaction():
        app = await _load_application(application_id, lock=True)
        for component, amount in change.items():
            committed = await _balance(application_account(application_id, "committed", component).code)
            if committed + amount < 0:
                raise Conflict(
                    _(
                        "%(component)s has %(committed)s committed and unpaid; the amendment takes away %(amount)s.",
                        component=_component_label(component),
                        committed=rupiah(committed),
                        amount=rupiah(-amount),
                    ),
                    title=OVER_APPROVED,
                    errors=[FieldError(f"budget.{component}", _("Paid money is never re-planned."))],
                )
        posting = Posting(
            Kind.amendment,
            amendment_legs(app.programme_id, application_id, change),
            application_id=application_id,
            programme_id=app.programme_id,
            reference=reference,
            memo=memo,
            audit_details={"change": change, "given_back": -sum(change.values())},
        )
        # Not post(): the programme is locked between the audit event and the entries (the one lock order).
        txn = await _open(posting, actor)
        programme = await _lock_programme(app.programme_id)
        await _write(txn, posting.legs)
        await _sync_funding(programme, actor)  # a lowered ceiling takes back what this gave back
        return int(txn["id"])


def _check_reason(value: Any, errors: list[FieldError]) -> str:
    if not isinstance(value, str):
        errors.append(FieldError("reason", _("Must be text.")))
        return ""
    if len(value) > 2000:
        errors.append(FieldError("reason", _("At most %(n)d characters.", n=2000)))
    return value.strip()


async def released(application_id: int) -> dict[str, int]:
    """Rupiah released per component (what release postings took off committed)."""
    rows = await db.fetch(
        f"SELECT a.component, {_sum('-e.amount')} AS amount FROM ledger_entries e "  # noqa: S608 - constant SQL
        "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE e.application_id = {} AND t.kind = 'release' AND a.name = 'committed' GROUP BY a.component",
        application_id,
    )
    return {r["component"]: int(r["amount"]) for r in rows if int(r["amount"])}


def _account_words(code: str) -> str:
    """``app:5:grant_cash:capital`` → "the grant money for Working capital", for a person reading a refusal."""
    parts = code.split(":")
    name, component = parts[2], (_component_label(parts[3]) if len(parts) > 3 else "")
    words = {
        "available": _("the programme's available budget"),
        "committed": _("the approved money for %(component)s", component=component),
        "disbursed": _("the money paid for %(component)s", component=component),
        "grant_cash": _("the grant money for %(component)s", component=component),
        "own_cash": _("the group's own money"),
    }
    return words.get(name, code)


def _last_day(period: str) -> dt.date:
    """``2020-04`` → 2020-04-30: a report's money is dated on the last day of its period."""
    year, month = int(period[:4]), int(period[5:7])
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _component_label(component: str) -> str:
    from tkm.web.labels import label

    return label(component, "component")


async def reverse(transaction_id: int, reason: str, actor: CurrentUser | None) -> int:
    """Undo a transaction with a new one that flips every entry; returns the reversal's id.

    409 for a transaction already reversed, a reversal, programme funding, or a commitment that was
    partly paid (reverse the payments first).
    """
    errors: list[FieldError] = []
    if not _is_int(transaction_id):
        errors.append(FieldError("transaction_id", _("Must be a whole number.")))
    if not isinstance(reason, str) or not reason.strip():
        errors.append(FieldError("reason", _("Say why the transaction is reversed.")))
    elif len(reason) > 2000:
        errors.append(FieldError("reason", _("At most %(n)d characters.", n=2000)))
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        original = await LedgerTransaction.select().where(LedgerTransaction.id == transaction_id).first()
        if original is None:
            raise NotFound(_("Ledger transaction %(id)s not found.", id=transaction_id))
        if original["application"] is not None:
            await _load_application(int(original["application"]), lock=True)  # serialises reversals of one grant
        if original["kind"] == Kind.reversal:
            raise Conflict(_("Transaction %(id)s is itself a reversal; it cannot be reversed.", id=transaction_id))
        if original["kind"] == Kind.funding:
            raise Conflict(_("Programme funding follows the budget ceiling; it is not reversed."))
        if original["kind"] == Kind.release:
            raise Conflict(_("Released money went back to the programme for good; a release is not reversed."))
        done = (
            await LedgerTransaction.select(LedgerTransaction.id)
            .where(LedgerTransaction.reverses == transaction_id)
            .first()
        )
        if done is not None:
            raise Conflict(
                _("Transaction %(id)s was already reversed by %(by)s.", id=transaction_id, by=done["id"]),
                extra={"reversed_by": done["id"]},
            )
        legs = await _legs_of(transaction_id)
        for account, amount in legs:
            if account.name == "committed" and amount > 0:
                left = await _balance(account.code)
                if left < amount:
                    raise Conflict(
                        _(
                            "%(component)s of this commitment was already paid out; reverse the payments first.",
                            component=account.component,
                        )
                    )
        reversal = Posting(
            Kind.reversal,
            reversal_legs(legs),
            application_id=original["application"],
            programme_id=original["programme"],
            component=original["component"],
            reference=original["reference"],
            memo=reason.strip(),
            reverses=transaction_id,
            period=original["period"] or await activity.effective_period(transaction_id),
            audit_details={"reverses": transaction_id, "kind": original["kind"], "reason": reason.strip()},
        )
        # Not post(): a released commitment locks the programme between the audit event and the entries.
        txn = await _open(reversal, actor)
        programme = None
        if original["kind"] == Kind.commit and original["programme"] is not None:
            programme = await _lock_programme(int(original["programme"]))  # lock order: after the audit event
        await _write(txn, reversal.legs)
        if programme is not None:
            await _sync_funding(programme, actor)  # a lowered ceiling takes back what this released
        return int(txn["id"])


async def _legs_of(transaction_id: int) -> list[Leg]:
    rows = await db.fetch(
        "SELECT a.owner_kind, a.owner_id, a.name, a.component, e.amount FROM ledger_entries e "
        "JOIN ledger_accounts a ON a.id = e.account WHERE e.txn = {} ORDER BY e.seq",
        transaction_id,
    )
    return [
        (Account(r["owner_kind"], int(r["owner_id"]), r["name"], r["component"] or ""), int(r["amount"])) for r in rows
    ]


# --- reading ------------------------------------------------------------------------------------------------------


async def readable_trail(application_id: int, actor: CurrentUser) -> int:
    """404 unless ``actor`` may see the application (same rules as the application itself); returns the bound
    (``last_seq()``) to read its trail and totals up to, so both describe the same moment."""
    from tkm.applications import access

    await access.load(application_id, actor)
    return await last_seq()


async def last_seq() -> int:
    """The newest entry's position in the chain: a consistent upper bound for a trail and its totals."""
    seq, _hash = await hashchain.head_of(CHAIN)
    return seq


async def totals(application_id: int, *, up_to_seq: int | None = None) -> dict[str, Any]:
    """The funds-trail totals of a grant, integer rupiah (see ``accounts.summarise``): approved, disbursed, the
    grant pool (grant_spent, returned, unspent = disbursed − grant_spent − returned ≥ 0), the own pool (revenue,
    own_spent = reinvested, own_balance ≥ 0), spent = grant + own spending, released (given back to the
    programme; approved = committed + disbursed stays the money still approved), and ``by_component``."""
    bound = "" if up_to_seq is None else " AND e.seq <= {}"
    args: list[Any] = [application_id] + ([] if up_to_seq is None else [up_to_seq])
    # Released money is not an account of its own: it is the committed entries of release postings.
    rows = await db.fetch(
        f"SELECT CASE WHEN t.kind = 'release' AND a.name = 'committed' THEN 'released' ELSE a.name END AS name, "  # noqa: S608
        f"a.component, {_sum('e.amount')} AS balance FROM ledger_entries e "
        "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE e.application_id = {}" + bound + " GROUP BY 1, a.component",
        *args,
    )
    balances = [(r["name"], r["component"] or "", int(r["balance"])) for r in rows]
    # committed's balance is the sum of every committed entry, releases too
    balances += [("committed", c, b) for name, c, b in list(balances) if name == "released"]
    return summarise(balances)


async def programme_committed(programme_id: int) -> int:
    """Rupiah committed to approved applications of the programme (net of reversals), paid or not."""
    appropriation = await _balance(programme_account(programme_id, "appropriation").code)
    available = await _balance(programme_account(programme_id, "available").code)
    return -appropriation - available


async def programme_totals(programme_id: int) -> dict[str, int]:
    """Money of a programme: funded (the ceiling), committed (approved and not released: paid or not), available,
    outstanding (approved and not yet paid), disbursed, spent (grant money), revenue, reinvested, released and
    returned. Always: available + outstanding + disbursed = funded, and released + outstanding + disbursed = the
    approved decrees' total."""
    rows = await db.fetch(
        f"SELECT a.name, {_sum('e.amount')} AS balance FROM ledger_entries e "  # noqa: S608
        "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE t.programme = {} GROUP BY a.name",
        programme_id,
    )
    balances = {r["name"]: int(r["balance"]) for r in rows}
    return {
        "funded": -balances.get("appropriation", 0),
        "committed": -balances.get("appropriation", 0) - balances.get("available", 0),
        "available": balances.get("available", 0),
        "outstanding": balances.get("committed", 0),
        "disbursed": balances.get("disbursed", 0),
        "spent": balances.get("grant_spent", 0),
        "revenue": -balances.get("revenue", 0),
        "reinvested": balances.get("reinvestment", 0),
        "released": await _programme_released(programme_id),
        "returned": balances.get("returned", 0),
    }


async def _programme_released(programme_id: int) -> int:
    row = await db.fetch_one(
        f"SELECT {_sum('e.amount')} AS amount FROM ledger_entries e "  # noqa: S608 - constant SQL
        "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
        "WHERE t.programme = {} AND t.kind = 'release' AND a.name = 'available'",
        programme_id,
    )
    return int(row["amount"]) if row else 0


async def trail(
    application_id: int, *, up_to_seq: int | None = None, batch_size: int = 500
) -> AsyncIterator[dict[str, Any]]:
    """The funds trail of an application, oldest first, read in batches (keyset on the chain sequence).

    Each line: ``at, kind, component, amount, reference, actor, balance_after`` plus ``transaction_id``,
    ``reverses`` and ``notes``. ``balance_after`` is the group's unspent grant money after the line:
    paid to the group so far minus what it reported spending (it ends at ``totals()["unspent"]``).
    """
    bound = await last_seq() if up_to_seq is None else up_to_seq
    names = ", ".join(f"'{name}'" for name in TRAIL_ACCOUNTS)
    after = 0
    running = 0
    while True:
        rows = await db.fetch(
            "SELECT e.seq, e.amount, e.txn, a.name, a.component, t.kind, t.reference, t.reverses, t.memo, "  # noqa: S608
            "t.actor_name, t.at, t.value_date, o.value_date AS reversed_value_date, o.kind AS reversed_kind "
            "FROM ledger_entries e "
            "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
            "LEFT JOIN ledger_transactions o ON o.id = t.reverses "
            f"WHERE e.application_id = {{}} AND e.seq > {{}} AND e.seq <= {{}} AND a.name IN ({names}) "
            "ORDER BY e.seq LIMIT {}",
            application_id,
            after,
            bound,
            batch_size,
        )
        for r in rows:
            line = trail_line(r["kind"], r["name"], int(r["amount"]), r["reversed_kind"])
            if line is None:
                continue
            running += line.unspent_delta
            yield _line_out(r, line, running)
        if len(rows) < batch_size:
            return
        after = int(rows[-1]["seq"])


async def whole_trail(
    where: str,
    args: Sequence[Any],
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    up_to_seq: int | None = None,
    batch_size: int = 2000,
) -> AsyncIterator[dict[str, Any]]:
    """Every application's funds trail, one after the other (by application, oldest line first), in constant
    memory: keyset reads in batches on ``(application_id, seq)``.

    ``where`` (with ``args``, ``{}`` placeholders) limits the applications, aliased ``a`` (see
    ``tkm.dashboard.queries.Scope.where``). Each line is a line of :func:`trail` (same ``balance_after``)
    plus ``application_id``, ``group`` and ``region``. ``date_from``/``date_to`` keep the lines whose day (the
    day the money moved, as ``at``) falls between them; balances still count every earlier line.
    """
    bound = await last_seq() if up_to_seq is None else up_to_seq
    names = ", ".join(f"'{name}'" for name in TRAIL_ACCOUNTS)
    after_application, after_seq = 0, 0
    current, running = None, 0
    while True:
        rows = await db.fetch(
            "SELECT e.seq, e.amount, e.txn, e.application_id, acc.name, acc.component, t.kind, t.reference, "  # noqa: S608 - fragments are constants; values go in args
            "t.reverses, t.memo, t.actor_name, t.at, t.value_date, o.value_date AS reversed_value_date, "
            "o.kind AS reversed_kind, a.region, g.name AS group_name "
            "FROM ledger_entries e JOIN applications a ON a.id = e.application_id "
            "JOIN groups g ON g.id = a.group_id "
            "JOIN ledger_accounts acc ON acc.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
            "LEFT JOIN ledger_transactions o ON o.id = t.reverses "
            f"WHERE ({where}) AND (e.application_id, e.seq) > ({{}}, {{}}) AND e.seq <= {{}} "
            f"AND acc.name IN ({names}) ORDER BY e.application_id, e.seq LIMIT {{}}",
            *args,
            after_application,
            after_seq,
            bound,
            batch_size,
        )
        for r in rows:
            application_id = int(r["application_id"])
            if application_id != current:
                current, running = application_id, 0
            line = trail_line(r["kind"], r["name"], int(r["amount"]), r["reversed_kind"])
            if line is None:
                continue
            running += line.unspent_delta
            out = _line_out(r, line, running)
            day = dt.date.fromisoformat(out["at"])
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
            yield {
                "application_id": application_id,
                "group": r["group_name"] or "",
                "region": r["region"] or "",
                **out,
            }
        if len(rows) < batch_size:
            return
        after_application, after_seq = int(rows[-1]["application_id"]), int(rows[-1]["seq"])


def _line_out(r: dict[str, Any], line: TrailLine, running: int) -> dict[str, Any]:
    """One funds-trail line from its entry row (the per-grant and the whole trail read the same columns)."""
    return {
        # The day the money moved (a reversal: that of what it undoes); when it was recorded.
        "at": _event_day(r["value_date"] or r["reversed_value_date"], r["at"]),
        "recorded_at": _as_datetime(r["at"]).isoformat(),
        "kind": line.kind,
        "component": r["component"] or "",
        "amount": line.amount,
        "reference": r["reference"] or "",
        "actor": r["actor_name"] or "",
        "balance_after": running,
        "transaction_id": int(r["txn"]),
        "reverses": int(r["reverses"]) if r["reverses"] is not None else None,
        "notes": r["memo"] or "",
    }


def _event_day(value_date: Any, recorded: Any) -> str:
    """The ISO day an entry is dated by: its value date, else the Western Indonesia day it was recorded."""
    day = cells.excel_date(value_date or _as_datetime(recorded))
    assert day is not None
    return day.isoformat()


def _as_datetime(value: Any) -> dt.datetime:
    """Timestamps as aware datetimes on both engines (raw SQLite rows may carry text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


# --- integrity ----------------------------------------------------------------------------------------------------


async def verify(batch_size: int = 2000) -> hashchain.ChainBreak | None:
    """Walk the ledger hash chain in order, a batch at a time, in constant memory.

    Also re-checks that every transaction balances (a transaction's entries are contiguous in the chain: they
    are appended under the chain head's lock, so one running sum is enough), and that after every
    transaction no account that may not go negative is below zero: the programme's available budget, what
    is committed and paid per component, and both pools of every grant (its grant money and its own money).
    """
    verifier = await hashchain.verifier(CHAIN)
    after = 0
    current_txn: int | None = None
    current_sum = 0
    last_entry: Any = None
    balances: dict[str, int] = {}  # running balances of the NON_NEGATIVE accounts
    touched: set[str] = set()
    while True:
        rows = await db.fetch(
            "SELECT e.id, e.seq, e.amount, e.application_id, e.prev_hash, e.hash, a.code, "
            "t.id AS txn_id, t.kind, t.application, t.programme, t.component, t.reference, t.memo, t.reverses, "
            "t.actor_id, t.actor, t.actor_name, t.at, t.period, t.value_date FROM ledger_entries e "
            "JOIN ledger_accounts a ON a.id = e.account JOIN ledger_transactions t ON t.id = e.txn "
            "WHERE e.seq > {} ORDER BY e.seq LIMIT {}",
            after,
            batch_size,
        )
        for r in rows:
            txn = {
                "id": int(r["txn_id"]),
                "kind": r["kind"],
                "application": r["application"],
                "programme": r["programme"],
                "component": r["component"],
                "reference": r["reference"],
                "memo": r["memo"],
                "reverses": r["reverses"],
                "actor_id": r["actor_id"],
                "actor": r["actor"],
                "actor_name": r["actor_name"],
                "at": _as_datetime(r["at"]),
                "period": r["period"],
                "value_date": r["value_date"],
            }
            fields = entry_fields(txn, r["code"], int(r["amount"]), r["application_id"])
            if not verifier.feed(int(r["id"]), int(r["seq"]), r["prev_hash"], r["hash"], fields):
                return verifier.broken
            if txn["id"] != current_txn:
                if current_sum:
                    return _unbalanced(current_txn, last_entry, verifier.seq - 1)
                if negative := _below_zero(balances, touched, current_txn, last_entry, verifier.seq - 1):
                    return negative
                current_txn, current_sum = txn["id"], 0
            current_sum += int(r["amount"])
            last_entry = int(r["id"])
            if r["code"].split(":")[2] in NON_NEGATIVE:
                balances[r["code"]] = balances.get(r["code"], 0) + int(r["amount"])
                touched.add(r["code"])
        if len(rows) < batch_size:
            break
        after = int(rows[-1]["seq"])
    broken = await verifier.finish()  # entries cut off the end first: the likelier cause of an unbalanced tail
    if broken is None and current_sum:
        return _unbalanced(current_txn, last_entry, verifier.seq)
    return broken or _below_zero(balances, touched, current_txn, last_entry, verifier.seq)


def _below_zero(
    balances: dict[str, int], touched: set[str], txn_id: int | None, entry_id: Any, seq: int
) -> hashchain.ChainBreak | None:
    """The first account the transaction just walked left below zero, as a break naming it (else None)."""
    negative = sorted(code for code in touched if balances[code] < 0)
    touched.clear()
    if not negative:
        return None
    return hashchain.ChainBreak(
        CHAIN, seq, entry_id, f"ledger transaction {txn_id} leaves {negative[0]} below zero ({balances[negative[0]]})"
    )


def _unbalanced(txn_id: int | None, entry_id: Any, seq: int) -> hashchain.ChainBreak:
    return hashchain.ChainBreak(CHAIN, seq, entry_id, f"ends ledger transaction {txn_id}, which does not balance")
