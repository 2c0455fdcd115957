"""The chart of accounts and the legs of each kind of posting: pure functions, no database.

Balances are signed: **balance = debits − credits**. An entry's ``amount`` is
positive for a debit and negative for a credit, so a transaction balances when
its amounts sum to zero, and an account's balance is the sum of its amounts.

Programme (``prog:{programme_id}:…``)
    ``appropriation``   credit-normal: minus the programme's budget_ceiling once funded.
    ``available``       debit-normal: ceiling not yet committed; never below zero.

Application (``app:{application_id}:…:{component}``, component = capital | wages | product_development | marketing)
    ``committed``       debit-normal: approved but not yet paid; never below zero (so disbursed ≤ approved).
    ``disbursed``       debit-normal: paid to the group.

Group (``grp:{group_id}:…``)
    ``cash``            debit-normal: money the group holds (grant received + revenue − spending − reinvestment).
    ``grant_received``  credit-normal: grant money received.
    ``expense:{category}``  debit-normal, category = raw_materials | equipment | wages | marketing | other.
    ``revenue``         credit-normal: sales revenue reported.
    ``reinvestment``    debit-normal: revenue put back into the business.

Postings (Dr = debit, Cr = credit):

=============  ===================================================================================
funding        Dr prog:available / Cr prog:appropriation (budget_ceiling, on first use; a later
               change of the ceiling posts the difference)
commit         per component: Dr app:committed:{c} / Cr prog:available
payment        Dr app:disbursed:{c} / Cr app:committed:{c}, and Dr grp:cash / Cr grp:grant_received
report         Dr grp:expense:{cat} / Cr grp:cash; Dr grp:cash / Cr grp:revenue;
               Dr grp:reinvestment / Cr grp:cash
release        per component: Dr prog:available / Cr app:committed:{c} (what is still committed and
               will not be paid: a terminated grant's unpaid tranches, a completed grant's remainder;
               the money goes back to the programme; a release is final and is not reversed)
reversal       every entry of the original with its sign flipped (a failed bank payment returns the
               money to committed)
=============  ===================================================================================

Derived figures for an application: approved = committed + disbursed (the money still approved: what was
paid plus what may still be paid), released = what release postings took off committed, so the amount of
the approval decree is approved + released; spent = Σ expense, unspent = disbursed − spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tkm.programmes.schemas import COMPONENTS

EXPENSE_CATEGORIES = ("raw_materials", "equipment", "wages", "marketing", "other")
#: The largest single amount accepted (Rp1 quadrillion); keeps every sum far inside BIGINT.
MAX_AMOUNT = 10**15


class Kind(StrEnum):
    funding = "funding"
    commit = "commit"
    payment = "payment"
    report = "report"
    reversal = "reversal"
    release = "release"


#: Account names whose balance may never go below zero (checked after every posting).
NON_NEGATIVE = frozenset({"available", "committed", "disbursed"})

OWNER_PREFIX = {"programme": "prog", "application": "app", "group": "grp"}


@dataclass(frozen=True)
class Account:
    owner_kind: str  # programme | application | group
    owner_id: int
    name: str
    component: str = ""

    @property
    def code(self) -> str:
        parts = [OWNER_PREFIX[self.owner_kind], str(self.owner_id), self.name]
        if self.component:
            parts.append(self.component)
        return ":".join(parts)


Leg = tuple[Account, int]


def programme_account(programme_id: int, name: str) -> Account:
    return Account("programme", programme_id, name)


def application_account(application_id: int, name: str, component: str) -> Account:
    return Account("application", application_id, name, component)


def group_account(group_id: int, name: str, component: str = "") -> Account:
    return Account("group", group_id, name, component)


def is_balanced(legs: Iterable[Leg]) -> bool:
    legs = list(legs)
    return len(legs) >= 2 and sum(amount for _account, amount in legs) == 0 and all(a != 0 for _x, a in legs)


def funding_legs(programme_id: int, amount: int) -> list[Leg]:
    """``amount`` > 0 raises the programme's funds; < 0 lowers them (a lower ceiling)."""
    return [
        (programme_account(programme_id, "available"), amount),
        (programme_account(programme_id, "appropriation"), -amount),
    ]


def commit_legs(programme_id: int, application_id: int, budget: dict[str, int]) -> list[Leg]:
    legs: list[Leg] = []
    for component in sorted(budget, key=_component_order):
        amount = budget[component]
        legs.append((application_account(application_id, "committed", component), amount))
        legs.append((programme_account(programme_id, "available"), -amount))
    return legs


def payment_legs(application_id: int, group_id: int, component: str, amount: int) -> list[Leg]:
    return [
        (application_account(application_id, "disbursed", component), amount),
        (application_account(application_id, "committed", component), -amount),
        (group_account(group_id, "cash"), amount),
        (group_account(group_id, "grant_received"), -amount),
    ]


def report_legs(group_id: int, expenses: dict[str, int], revenue: int, reinvested: int) -> list[Leg]:
    legs: list[Leg] = []
    for category in sorted(expenses, key=EXPENSE_CATEGORIES.index):
        amount = expenses[category]
        if amount:
            legs.append((group_account(group_id, "expense", category), amount))
            legs.append((group_account(group_id, "cash"), -amount))
    if revenue:
        legs.append((group_account(group_id, "cash"), revenue))
        legs.append((group_account(group_id, "revenue"), -revenue))
    if reinvested:
        legs.append((group_account(group_id, "reinvestment"), reinvested))
        legs.append((group_account(group_id, "cash"), -reinvested))
    return legs


def release_legs(programme_id: int, application_id: int, committed: dict[str, int]) -> list[Leg]:
    """Give back what is still committed ``{component: rupiah}`` (zero amounts are skipped)."""
    legs: list[Leg] = []
    for component in sorted(committed, key=_component_order):
        amount = committed[component]
        if amount:
            legs.append((programme_account(programme_id, "available"), amount))
            legs.append((application_account(application_id, "committed", component), -amount))
    return legs


def reversal_legs(original: Iterable[Leg]) -> list[Leg]:
    return [(account, -amount) for account, amount in original]


def _component_order(component: str) -> int:
    return COMPONENTS.index(component) if component in COMPONENTS else len(COMPONENTS)


# --- the funds trail as people read it ---------------------------------------------------------------------------

#: Per kind of posting, the accounts whose entries are its lines in a funds trail (the other legs are their
#: double-entry counterparts: the programme's available budget, the group's cash, ...).
LINE_ACCOUNTS = {
    Kind.commit: frozenset({"committed"}),
    Kind.payment: frozenset({"disbursed"}),
    Kind.release: frozenset({"committed"}),
    Kind.report: frozenset({"expense", "revenue", "reinvestment"}),
}
TRAIL_ACCOUNTS = ("committed", "disbursed", "expense", "revenue", "reinvestment")
_REPORT_LINE_KIND = {"expense": "report_expense", "revenue": "report_revenue", "reinvestment": "report_reinvestment"}


@dataclass(frozen=True)
class TrailLine:
    kind: str
    amount: int
    #: Change of the group's unspent grant money (disbursed − spent) caused by this line.
    unspent_delta: int


def trail_line(txn_kind: str, account_name: str, amount: int, reversed_kind: str | None = None) -> TrailLine | None:
    """How one entry reads in a funds trail, or None when it is only the counterpart of a line.

    Amounts read positive for what happened (a commitment, a payment, an expense, revenue, reinvestment) and
    negative when a reversal undoes it. ``balance_after`` is the running sum of ``unspent_delta``: grant money
    paid to the group minus what the group reported spending. ``reversed_kind`` is the kind of the transaction
    a reversal undoes.
    """
    subject = reversed_kind if txn_kind == Kind.reversal else txn_kind
    if account_name not in LINE_ACCOUNTS.get(subject, ()):  # type: ignore[call-overload]
        return None
    # Revenue is credit-normal; a release reads as the amount given back.
    shown = -amount if account_name == "revenue" or subject == Kind.release else amount
    if txn_kind == Kind.report:
        kind = _REPORT_LINE_KIND[account_name]
    else:
        kind = str(txn_kind)
    if account_name == "disbursed":
        delta = amount
    elif account_name == "expense":
        delta = -amount
    else:
        delta = 0
    return TrailLine(kind, shown, delta)


#: The name of the pseudo-balance that ``summarise`` reads as released money: the sum of the ``committed``
#: entries of release postings (negative, like any credit).
RELEASED = "released"


def summarise(balances: Iterable[tuple[str, str, int]]) -> dict[str, object]:
    """Totals of an application from its account balances ``(name, component, balance)``.

    A row named ``released`` (``RELEASED``) carries what release postings took off committed; it adds
    ``released`` and leaves ``approved`` (committed + disbursed) the money still approved.
    """
    approved: dict[str, int] = {}
    disbursed: dict[str, int] = {}
    expenses: dict[str, int] = {}
    revenue = reinvested = released = 0
    for name, component, balance in balances:
        if name == RELEASED:
            released -= balance
        elif name == "committed":
            approved[component] = approved.get(component, 0) + balance
        elif name == "disbursed":
            approved[component] = approved.get(component, 0) + balance
            disbursed[component] = disbursed.get(component, 0) + balance
        elif name == "expense":
            expenses[component] = expenses.get(component, 0) + balance
        elif name == "revenue":
            revenue -= balance
        elif name == "reinvestment":
            reinvested += balance
    components = {
        c: {"approved": approved.get(c, 0), "disbursed": disbursed.get(c, 0)}
        for c in sorted(set(approved) | set(disbursed), key=_component_order)
        if approved.get(c, 0) or disbursed.get(c, 0)
    }
    total_disbursed = sum(disbursed.values())
    spent = sum(expenses.values())
    return {
        "approved": sum(approved.values()),
        "disbursed": total_disbursed,
        "spent": spent,
        "revenue": revenue,
        "reinvested": reinvested,
        "unspent": total_disbursed - spent,
        "released": released,
        "components": components,
        "expenses": {c: v for c, v in sorted(expenses.items(), key=lambda kv: EXPENSE_CATEGORIES.index(kv[0])) if v},
    }
