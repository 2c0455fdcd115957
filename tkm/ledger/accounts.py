"""The chart of accounts and the legs of each kind of posting: pure functions, no database.

Balances are signed: **balance = debits − credits**. An entry's ``amount`` is
positive for a debit and negative for a credit, so a transaction balances when
its amounts sum to zero, and an account's balance is the sum of its amounts.

A grant has **two pools that never mix**: the grant money the group received
(per RAB component) and the group's own money (its sales revenue). Neither may
go below zero: a report that spends more grant money on a component than was
paid for it, or more own money than the group has, is refused, and the ledger
refuses any posting that would take a pool below zero (``NON_NEGATIVE``).

Programme (``prog:{programme_id}:…``)
    ``appropriation``   credit-normal: minus the programme's budget_ceiling once funded.
    ``available``       debit-normal: ceiling not yet committed; never below zero.

Application (``app:{application_id}:…[:{component}]``, component = capital | wages | product_development | marketing)
    ``committed``       debit-normal, per component: approved but not yet paid; never below zero (disbursed ≤ approved).
    ``disbursed``       debit-normal, per component: paid to the group.
    ``grant_cash``      debit-normal, per component: grant money the group holds (disbursed − grant spent −
                        returned); never below zero (grant spent ≤ disbursed, per component).
    ``grant_received``  credit-normal, per component: the counterpart of grant_cash for payments.
    ``grant_spent``     debit-normal, per component: grant money the group reported spending.
    ``returned``        debit-normal, per component: unspent grant money deposited back to the state treasury.
    ``own_cash``        debit-normal: the group's own money from sales (revenue − sales-funded spending);
                        never below zero.
    ``revenue``         credit-normal: sales revenue reported.
    ``reinvestment``    debit-normal: sales revenue spent on the business (sales-funded spending).

Postings (Dr = debit, Cr = credit):

=============  ===================================================================================
funding        Dr prog:available / Cr prog:appropriation (budget_ceiling, on first use; a later
               change of the ceiling posts the difference)
commit         per component: Dr app:committed:{c} / Cr prog:available
payment        Dr app:disbursed:{c} / Cr app:committed:{c}, and Dr app:grant_cash:{c} / Cr app:grant_received:{c}
report         revenue: Dr app:own_cash / Cr app:revenue; per component of grant-funded spending:
               Dr app:grant_spent:{c} / Cr app:grant_cash:{c}; sales-funded spending:
               Dr app:reinvestment / Cr app:own_cash
return         per component: Dr app:returned:{c} / Cr app:grant_cash:{c} (a deposit to the treasury, NTPN)
release        per component: Dr prog:available / Cr app:committed:{c} (what is still committed and
               will not be paid: a terminated grant's unpaid tranches, a completed grant's remainder;
               the money goes back to the programme; a release is final and is not reversed)
amendment      per component whose approved amount changes: app:committed:{c} by the change (Dr a rise,
               Cr a fall), and Dr prog:available by what a lower total gives back (an approved budget
               amendment, perubahan RAB: the total never rises, paid money is never re-planned)
reversal       every entry of the original with its sign flipped (a failed bank payment returns the
               money to committed)
=============  ===================================================================================

Derived figures for an application: approved = committed + disbursed (the money still approved: what was
paid plus what may still be paid); released = what release postings took off committed, so the amount of
the approval decree is approved + released; grant spent = Σ grant_spent; unspent (grant) = Σ grant_cash =
disbursed − grant spent − returned ≥ 0; own balance = own_cash = revenue − reinvested ≥ 0; spent = grant
spent + own spent (own spent = reinvested).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tkm.programmes.schemas import COMPONENTS

#: The largest single amount accepted (Rp1 quadrillion); keeps every sum far inside BIGINT.
MAX_AMOUNT = 10**15


class Kind(StrEnum):
    funding = "funding"
    commit = "commit"
    payment = "payment"
    report = "report"
    #: Unspent grant money deposited back to the state treasury.
    deposit = "return"
    reversal = "reversal"
    release = "release"
    #: An approved budget amendment: commitments move between components (and a lower total goes back).
    amendment = "amendment"


#: Where money for a reported expense came from.
SOURCES = ("grant", "sales")

#: Account names whose balance may never go below zero (checked after every posting): the programme's
#: available budget, what is committed and paid per component, and both pools of a grant.
NON_NEGATIVE = frozenset({"available", "committed", "disbursed", "grant_cash", "own_cash"})

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


def payment_legs(application_id: int, component: str, amount: int) -> list[Leg]:
    return [
        (application_account(application_id, "disbursed", component), amount),
        (application_account(application_id, "committed", component), -amount),
        (application_account(application_id, "grant_cash", component), amount),
        (application_account(application_id, "grant_received", component), -amount),
    ]


def report_legs(application_id: int, grant_spent: dict[str, int], revenue: int, own_spent: int) -> list[Leg]:
    """An accepted report: its revenue into the group's own money, grant-funded spending out of each
    component's grant money, and sales-funded spending (reinvestment) out of the own money."""
    legs: list[Leg] = []
    if revenue:
        legs.append((application_account(application_id, "own_cash", ""), revenue))
        legs.append((application_account(application_id, "revenue", ""), -revenue))
    for component in sorted(grant_spent, key=_component_order):
        amount = grant_spent[component]
        if amount:
            legs.append((application_account(application_id, "grant_spent", component), amount))
            legs.append((application_account(application_id, "grant_cash", component), -amount))
    if own_spent:
        legs.append((application_account(application_id, "reinvestment", ""), own_spent))
        legs.append((application_account(application_id, "own_cash", ""), -own_spent))
    return legs


def return_legs(application_id: int, amounts: dict[str, int]) -> list[Leg]:
    """A deposit of unspent grant money to the state treasury, per component."""
    legs: list[Leg] = []
    for component in sorted(amounts, key=_component_order):
        if amounts[component]:
            legs.append((application_account(application_id, "returned", component), amounts[component]))
            legs.append((application_account(application_id, "grant_cash", component), -amounts[component]))
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


def amendment_legs(programme_id: int, application_id: int, change: dict[str, int]) -> list[Leg]:
    """Move commitments by ``change`` ``{component: new − old approved}``; the net (≤ 0 for an amendment, whose
    total never rises) is the programme's available money given back, so the posting balances."""
    legs: list[Leg] = []
    for component in sorted(change, key=_component_order):
        if change[component]:
            legs.append((application_account(application_id, "committed", component), change[component]))
    net = sum(change.values())
    if net:
        legs.append((programme_account(programme_id, "available"), -net))
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
    Kind.amendment: frozenset({"committed"}),
    Kind.report: frozenset({"grant_spent", "revenue", "reinvestment"}),
    Kind.deposit: frozenset({"returned"}),
}
TRAIL_ACCOUNTS = ("committed", "disbursed", "grant_spent", "revenue", "reinvestment", "returned")
_REPORT_LINE_KIND = {
    "grant_spent": "report_expense",
    "revenue": "report_revenue",
    "reinvestment": "report_reinvestment",
}


@dataclass(frozen=True)
class TrailLine:
    kind: str
    amount: int
    #: Change of the group's unspent grant money (disbursed − grant spent − returned) caused by this line.
    unspent_delta: int


def trail_line(txn_kind: str, account_name: str, amount: int, reversed_kind: str | None = None) -> TrailLine | None:
    """How one entry reads in a funds trail, or None when it is only the counterpart of a line.

    Amounts read positive for what happened (a commitment, a payment, grant-funded spending, revenue,
    sales-funded spending, a return to the treasury) and negative when a reversal undoes it.
    ``balance_after`` is the running sum of ``unspent_delta``: grant money paid to the group minus what it
    spent of it and returned, so it never goes below zero. ``reversed_kind`` is the kind of the transaction a
    reversal undoes.
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
    delta = amount if account_name == "disbursed" else -amount if account_name in ("grant_spent", "returned") else 0
    return TrailLine(kind, shown, delta)


#: The name of the pseudo-balance that ``summarise`` reads as released money: the sum of the ``committed``
#: entries of release postings (negative, like any credit).
RELEASED = "released"


def summarise(balances: Iterable[tuple[str, str, int]]) -> dict[str, Any]:
    """Totals of an application from its account balances ``(name, component, balance)``.

    ``unspent`` is the grant money the group still holds (= ``grant_unspent``, never below zero);
    ``spent`` is everything it reported spending, from the grant and from its own money. A row named
    ``released`` (``RELEASED``) carries what release postings took off committed; it adds ``released`` and
    leaves ``approved`` (committed + disbursed) the money still approved.
    """
    per: dict[str, dict[str, int]] = {}
    single: dict[str, int] = {}
    released = 0
    for name, component, balance in balances:
        if name == RELEASED:
            released -= balance
        elif component:
            per.setdefault(name, {})
            per[name][component] = per[name].get(component, 0) + balance
        else:
            single[name] = single.get(name, 0) + balance

    def by(name: str, component: str) -> int:
        return per.get(name, {}).get(component, 0)

    components = sorted({c for name in ("committed", "disbursed") for c in per.get(name, {})}, key=_component_order)
    by_component = {
        c: {
            "approved": by("committed", c) + by("disbursed", c),
            "disbursed": by("disbursed", c),
            "grant_spent": by("grant_spent", c),
            "returned": by("returned", c),
            "unspent": by("grant_cash", c),
        }
        for c in components
        if by("committed", c) or by("disbursed", c)
    }
    disbursed = sum(per.get("disbursed", {}).values())
    grant_spent = sum(per.get("grant_spent", {}).values())
    returned = sum(per.get("returned", {}).values())
    unspent = sum(per.get("grant_cash", {}).values())
    revenue = -single.get("revenue", 0)
    own_spent = single.get("reinvestment", 0)
    return {
        "approved": sum(per.get("committed", {}).values()) + disbursed,
        "disbursed": disbursed,
        "spent": grant_spent + own_spent,
        "revenue": revenue,
        "reinvested": own_spent,
        "unspent": unspent,
        "grant_spent": grant_spent,
        "grant_unspent": unspent,
        "own_spent": own_spent,
        "own_balance": single.get("own_cash", 0),
        "returned": returned,
        "released": released,
        "by_component": by_component,
        # Kept for readers of the old shape: approved and disbursed per component.
        "components": {c: {"approved": v["approved"], "disbursed": v["disbursed"]} for c, v in by_component.items()},
    }
