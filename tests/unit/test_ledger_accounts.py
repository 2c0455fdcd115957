"""The chart of accounts, the legs of each posting and how entries read in a funds trail (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tkm.core.errors import UnsupportedMediaType
from tkm.ledger import accounts
from tkm.ledger.accounts import (
    Kind,
    commit_legs,
    funding_legs,
    is_balanced,
    payment_legs,
    report_legs,
    return_legs,
    reversal_legs,
    summarise,
    trail_line,
)
from tkm.ledger.exports import check_format, row_of, safe_text
from tkm.programmes.schemas import COMPONENTS

amounts = st.integers(min_value=1, max_value=10**12)


def codes(legs):
    return [(account.code, amount) for account, amount in legs]


def test_account_codes():
    assert accounts.programme_account(3, "available").code == "prog:3:available"
    assert accounts.application_account(12, "committed", "capital").code == "app:12:committed:capital"
    assert accounts.group_account(7, "expense", "wages").code == "grp:7:expense:wages"
    assert accounts.group_account(7, "cash").code == "grp:7:cash"


def test_payment_moves_committed_to_disbursed_and_into_the_grant_money_of_its_component():
    assert codes(payment_legs(12, "wages", 500)) == [
        ("app:12:disbursed:wages", 500),
        ("app:12:committed:wages", -500),
        ("app:12:grant_cash:wages", 500),
        ("app:12:grant_received:wages", -500),
    ]


def test_commit_debits_each_component_against_the_programme():
    assert codes(commit_legs(3, 12, {"wages": 5, "capital": 10})) == [
        ("app:12:committed:capital", 10),
        ("prog:3:available", -10),
        ("app:12:committed:wages", 5),
        ("prog:3:available", -5),
    ]


def test_report_skips_zero_amounts():
    legs = report_legs(7, {"wages": 0, "capital": 4}, revenue=9, own_spent=0)
    assert codes(legs) == [
        ("app:7:own_cash", 9),
        ("app:7:revenue", -9),
        ("app:7:grant_spent:capital", 4),
        ("app:7:grant_cash:capital", -4),
    ]


def test_report_keeps_the_two_pools_apart():
    """Grant-funded spending leaves the component's grant money; sales-funded spending leaves the own money."""
    legs = report_legs(7, {"marketing": 3, "capital": 4}, revenue=9, own_spent=2)
    assert codes(legs) == [
        ("app:7:own_cash", 9),
        ("app:7:revenue", -9),
        ("app:7:grant_spent:capital", 4),
        ("app:7:grant_cash:capital", -4),
        ("app:7:grant_spent:marketing", 3),
        ("app:7:grant_cash:marketing", -3),
        ("app:7:reinvestment", 2),
        ("app:7:own_cash", -2),
    ]
    # No leg of a report touches a grant account with own money or the own money with grant spending.
    for account, _amount in legs:
        if account.name in ("grant_spent", "grant_cash"):
            assert account.component in COMPONENTS
        else:
            assert account.component == ""


def test_return_takes_grant_money_of_each_component_back_to_the_treasury():
    assert codes(return_legs(5, {"wages": 2, "capital": 3, "marketing": 0})) == [
        ("app:5:returned:capital", 3),
        ("app:5:grant_cash:capital", -3),
        ("app:5:returned:wages", 2),
        ("app:5:grant_cash:wages", -2),
    ]


def test_both_pools_may_never_go_below_zero():
    assert {"grant_cash", "own_cash", "committed", "disbursed", "available"} <= accounts.NON_NEGATIVE


@given(
    budget=st.dictionaries(st.sampled_from(COMPONENTS), amounts, min_size=1),
    component=st.sampled_from(COMPONENTS),
    amount=amounts,
    grant_spent=st.dictionaries(st.sampled_from(COMPONENTS), amounts, min_size=1),
    revenue=st.integers(0, 10**12),
    own_spent=st.integers(0, 10**12),
)
def test_every_posting_and_its_reversal_balance(budget, component, amount, grant_spent, revenue, own_spent):
    for legs in (
        funding_legs(1, amount),
        funding_legs(1, -amount),
        commit_legs(1, 2, budget),
        payment_legs(2, component, amount),
        report_legs(3, grant_spent, revenue, own_spent),
        return_legs(3, grant_spent),
    ):
        assert is_balanced(legs)
        assert is_balanced(reversal_legs(legs))
        assert sum(a for _acc, a in legs + reversal_legs(legs)) == 0


def test_is_balanced_refuses_one_sided_zero_and_lopsided_postings():
    cash = accounts.group_account(1, "cash")
    revenue = accounts.group_account(1, "revenue")
    assert not is_balanced([])
    assert not is_balanced([(cash, 5)])
    assert not is_balanced([(cash, 5), (revenue, -4)])
    assert not is_balanced([(cash, 0), (revenue, 0)])
    assert is_balanced([(cash, 5), (revenue, -5)])


def test_trail_lines_read_as_people_expect():
    assert trail_line(Kind.commit, "committed", 10) == accounts.TrailLine("commit", 10, 0)
    assert trail_line(Kind.commit, "available", -10) is None  # the programme side is not a line
    assert trail_line(Kind.payment, "disbursed", 7) == accounts.TrailLine("payment", 7, 7)
    assert trail_line(Kind.payment, "committed", -7) is None
    assert trail_line(Kind.payment, "grant_cash", 7) is None
    assert trail_line(Kind.payment, "grant_received", -7) is None
    # Grant money spent lowers what the group holds; its own money moves beside it, not in the balance.
    assert trail_line(Kind.report, "grant_spent", 3) == accounts.TrailLine("report_expense", 3, -3)
    assert trail_line(Kind.report, "grant_cash", -3) is None
    assert trail_line(Kind.report, "revenue", -9) == accounts.TrailLine("report_revenue", 9, 0)
    assert trail_line(Kind.report, "reinvestment", 2) == accounts.TrailLine("report_reinvestment", 2, 0)
    assert trail_line(Kind.report, "own_cash", 7) is None
    assert trail_line(Kind.deposit, "returned", 4) == accounts.TrailLine("return", 4, -4)
    assert trail_line(Kind.deposit, "grant_cash", -4) is None
    # Reversals read negative and undo the original's effect on unspent money.
    assert trail_line(Kind.reversal, "disbursed", -7, "payment") == accounts.TrailLine("reversal", -7, -7)
    assert trail_line(Kind.reversal, "committed", 7, "payment") is None
    assert trail_line(Kind.reversal, "committed", -10, "commit") == accounts.TrailLine("reversal", -10, 0)
    assert trail_line(Kind.reversal, "grant_spent", -3, "report") == accounts.TrailLine("reversal", -3, 3)
    assert trail_line(Kind.reversal, "revenue", 9, "report") == accounts.TrailLine("reversal", -9, 0)
    assert trail_line(Kind.reversal, "reinvestment", -2, "report") == accounts.TrailLine("reversal", -2, 0)
    assert trail_line(Kind.reversal, "returned", -4, "return") == accounts.TrailLine("reversal", -4, 4)


def test_summarise_derives_approved_and_both_pools():
    totals = summarise(
        [
            ("committed", "capital", 6),
            ("disbursed", "capital", 4),
            ("grant_cash", "capital", 0),
            ("grant_received", "capital", -4),
            ("grant_spent", "capital", 3),
            ("returned", "capital", 1),
            ("committed", "wages", 0),
            ("disbursed", "wages", 0),
            ("revenue", "", -9),
            ("reinvestment", "", 2),
            ("own_cash", "", 7),
        ]
    )
    assert totals == {
        "approved": 10,
        "disbursed": 4,
        "spent": 5,  # grant money spent (3) + own money spent (2)
        "revenue": 9,
        "reinvested": 2,
        "unspent": 0,  # 4 paid − 3 spent − 1 returned
        "grant_spent": 3,
        "grant_unspent": 0,
        "own_spent": 2,
        "own_balance": 7,  # 9 earned − 2 spent
        "returned": 1,
        "released": 0,
        "by_component": {
            "capital": {"approved": 10, "disbursed": 4, "grant_spent": 3, "returned": 1, "unspent": 0},
        },
        "components": {"capital": {"approved": 10, "disbursed": 4}},
    }
    assert "expenses" not in totals


def test_summarise_keeps_unspent_grant_money_per_component():
    totals = summarise(
        [
            ("committed", "capital", 0),
            ("disbursed", "capital", 10),
            ("grant_cash", "capital", 6),
            ("grant_spent", "capital", 4),
            ("committed", "marketing", 5),
            ("disbursed", "marketing", 3),
            ("grant_cash", "marketing", 3),
            ("revenue", "", -2),
            ("own_cash", "", 2),
        ]
    )
    assert totals["unspent"] == totals["grant_unspent"] == 9
    assert totals["disbursed"] - totals["grant_spent"] - totals["returned"] == totals["unspent"]
    assert totals["spent"] == 4 and totals["own_balance"] == 2 and totals["reinvested"] == 0
    assert totals["by_component"]["capital"]["unspent"] == 6
    assert totals["by_component"]["marketing"] == {
        "approved": 8,
        "disbursed": 3,
        "grant_spent": 0,
        "returned": 0,
        "unspent": 3,
    }


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx"])
def test_formula_like_text_is_neutralised(value):
    assert safe_text(value) == "'" + value


def test_plain_text_and_numbers_are_left_alone():
    assert safe_text("TRF-1") == "TRF-1" and safe_text(-5) == -5
    line = {
        "at": "2020-04-01T00:00:00+00:00",
        "transaction_id": 4,
        "kind": "reversal",
        "component": "capital",
        "amount": -5,
        "balance_after": 0,
        "reference": "=cmd",
        "actor": "Rina",
        "reverses": 3,
        "notes": "",
    }
    # Words for the codes (Bahasa Indonesia by default), the day in Western Indonesia time, money as numbers.
    assert row_of(line) == ["2020-04-01", 4, "Pembalikan", "Modal kerja", -5, 0, "'=cmd", "Rina", 3, ""]


def test_formats():
    assert check_format(None) == "json" and check_format("CSV") == "csv" and check_format("xlsx") == "xlsx"
    assert check_format("PDF") == "pdf"
    with pytest.raises(UnsupportedMediaType) as info:
        check_format("docx")
    assert info.value.status == 415 and info.value.errors[0].field == "format"


def test_release_gives_what_is_still_committed_back_to_the_programme():
    legs = accounts.release_legs(3, 7, {"wages": 5, "capital": 2, "marketing": 0})
    assert accounts.is_balanced(legs)
    # Component order as everywhere; a component with nothing committed posts nothing.
    assert [(a.code, amount) for a, amount in legs] == [
        ("prog:3:available", 2),
        ("app:7:committed:capital", -2),
        ("prog:3:available", 5),
        ("app:7:committed:wages", -5),
    ]
    assert accounts.release_legs(3, 7, {}) == []
    # In a funds trail a release reads as the positive amount given back and leaves unspent money alone.
    assert trail_line(Kind.release, "committed", -5) == accounts.TrailLine("release", 5, 0)
    assert trail_line(Kind.release, "available", 5) is None


def test_summarise_shows_released_money_beside_what_stays_approved():
    # Approved 10 for capital: 4 paid, 6 released (committed's balance is 0 after the release).
    totals = summarise(
        [
            ("committed", "capital", 0),
            ("disbursed", "capital", 4),
            (accounts.RELEASED, "capital", -6),
        ]
    )
    assert totals["approved"] == 4 and totals["disbursed"] == 4 and totals["released"] == 6
    assert totals["approved"] + totals["released"] == 10


def test_every_kind_of_trail_line_has_words_in_the_letters():
    """The funds-trail PDF names every kind of line in Indonesian, returns to the treasury too (no raw codes)."""
    from tkm.documents.kinds import LEDGER_KIND_LABELS
    from tkm.web.labels import LABELS

    kinds = {
        line.kind
        for txn_kind in Kind
        for name in ("committed", "disbursed", "grant_spent", "returned", "revenue", "reinvestment")
        if (line := trail_line(txn_kind, name, -5, reversed_kind=Kind.payment)) is not None
    }
    assert "return" in kinds
    missing = (kinds | set(LABELS["entry"])) - set(LEDGER_KIND_LABELS)
    assert not missing, missing
