"""The chart of accounts, the legs of each posting and how entries read in a funds trail (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tkm.core.errors import UnsupportedMediaType
from tkm.ledger import accounts
from tkm.ledger.accounts import (
    EXPENSE_CATEGORIES,
    Kind,
    commit_legs,
    funding_legs,
    is_balanced,
    payment_legs,
    report_legs,
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


def test_payment_moves_committed_to_disbursed_and_credits_the_group():
    assert codes(payment_legs(12, 7, "wages", 500)) == [
        ("app:12:disbursed:wages", 500),
        ("app:12:committed:wages", -500),
        ("grp:7:cash", 500),
        ("grp:7:grant_received", -500),
    ]


def test_commit_debits_each_component_against_the_programme():
    assert codes(commit_legs(3, 12, {"wages": 5, "capital": 10})) == [
        ("app:12:committed:capital", 10),
        ("prog:3:available", -10),
        ("app:12:committed:wages", 5),
        ("prog:3:available", -5),
    ]


def test_report_skips_zero_amounts():
    assert codes(report_legs(7, {"other": 0, "raw_materials": 4}, revenue=9, reinvested=0)) == [
        ("grp:7:expense:raw_materials", 4),
        ("grp:7:cash", -4),
        ("grp:7:cash", 9),
        ("grp:7:revenue", -9),
    ]


@given(
    budget=st.dictionaries(st.sampled_from(COMPONENTS), amounts, min_size=1),
    component=st.sampled_from(COMPONENTS),
    amount=amounts,
    expenses=st.dictionaries(st.sampled_from(EXPENSE_CATEGORIES), amounts, min_size=1),
    revenue=st.integers(0, 10**12),
    reinvested=st.integers(0, 10**12),
)
def test_every_posting_and_its_reversal_balance(budget, component, amount, expenses, revenue, reinvested):
    for legs in (
        funding_legs(1, amount),
        funding_legs(1, -amount),
        commit_legs(1, 2, budget),
        payment_legs(2, 3, component, amount),
        report_legs(3, expenses, revenue, reinvested),
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
    assert trail_line(Kind.payment, "cash", 7) is None
    assert trail_line(Kind.report, "expense", 3) == accounts.TrailLine("report_expense", 3, -3)
    assert trail_line(Kind.report, "revenue", -9) == accounts.TrailLine("report_revenue", 9, 0)
    assert trail_line(Kind.report, "reinvestment", 2) == accounts.TrailLine("report_reinvestment", 2, 0)
    # Reversals read negative and undo the original's effect on unspent money.
    assert trail_line(Kind.reversal, "disbursed", -7, "payment") == accounts.TrailLine("reversal", -7, -7)
    assert trail_line(Kind.reversal, "committed", 7, "payment") is None
    assert trail_line(Kind.reversal, "committed", -10, "commit") == accounts.TrailLine("reversal", -10, 0)
    assert trail_line(Kind.reversal, "expense", -3, "report") == accounts.TrailLine("reversal", -3, 3)
    assert trail_line(Kind.reversal, "revenue", 9, "report") == accounts.TrailLine("reversal", -9, 0)


def test_summarise_derives_approved_and_unspent():
    totals = summarise(
        [
            ("committed", "capital", 6),
            ("disbursed", "capital", 4),
            ("committed", "wages", 0),
            ("disbursed", "wages", 0),
            ("expense", "raw_materials", 3),
            ("revenue", "", -9),
            ("reinvestment", "", 2),
            ("cash", "", 8),
        ]
    )
    assert totals == {
        "approved": 10,
        "disbursed": 4,
        "spent": 3,
        "revenue": 9,
        "reinvested": 2,
        "unspent": 1,
        "released": 0,
        "components": {"capital": {"approved": 10, "disbursed": 4}},
        "expenses": {"raw_materials": 3},
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
