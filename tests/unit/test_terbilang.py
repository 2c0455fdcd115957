"""Terbilang (amounts in Indonesian words), rupiah figures and Indonesian dates.

Expectations are written by hand or computed by a small reference
implementation below, independent of num2words (which ``terbilang`` wraps).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tkm.core.money import MAX_TERBILANG, long_date, rupiah, terbilang, terbilang_rupiah

HAND_WRITTEN = {
    0: "nol",
    1: "satu",
    10: "sepuluh",
    11: "sebelas",
    12: "dua belas",
    19: "sembilan belas",
    20: "dua puluh",
    21: "dua puluh satu",
    100: "seratus",
    101: "seratus satu",
    111: "seratus sebelas",
    1_000: "seribu",
    1_001: "seribu satu",
    2_000: "dua ribu",
    11_000: "sebelas ribu",
    101_000: "seratus satu ribu",
    1_001_000: "satu juta seribu",
    21_001_000: "dua puluh satu juta seribu",
    1_000_000_000: "satu miliar",
    1_001_001_001: "satu miliar satu juta seribu satu",
    1_000_001_000: "satu miliar seribu",
    1_000_000_001_000: "satu triliun seribu",
    1_111_111_111_111: (
        "satu triliun seratus sebelas miliar seratus sebelas juta seratus sebelas ribu seratus sebelas"
    ),
    20_000_000: "dua puluh juta",
    1_500_000: "satu juta lima ratus ribu",
    999_999_999_999_999: (
        "sembilan ratus sembilan puluh sembilan triliun sembilan ratus sembilan puluh sembilan miliar "
        "sembilan ratus sembilan puluh sembilan juta sembilan ratus sembilan puluh sembilan ribu "
        "sembilan ratus sembilan puluh sembilan"
    ),
}


@pytest.mark.parametrize(("amount", "words"), sorted(HAND_WRITTEN.items()))
def test_hand_written_amounts(amount, words):
    assert terbilang(amount) == words


def test_as_written_on_letters():
    assert terbilang_rupiah(21_001_000) == "dua puluh satu juta seribu rupiah"
    assert rupiah(21_001_000) == "Rp21.001.000"
    assert (
        f"{rupiah(21_001_000)} ({terbilang_rupiah(21_001_000)})" == "Rp21.001.000 (dua puluh satu juta seribu rupiah)"
    )
    assert rupiah(0) == "Rp0"
    assert terbilang(-1_001) == "minus seribu satu"


def test_dates_are_indonesian():
    assert long_date(dt.date(2020, 3, 24), "id") == "24 Maret 2020"
    assert long_date(dt.datetime(2020, 8, 17, 10, 0), "id") == "17 Agustus 2020"


@pytest.mark.parametrize("bad", [1.5, "100", True, None])
def test_only_integers(bad):
    with pytest.raises(TypeError):
        terbilang(bad)


def test_above_999_trillion_is_refused():
    with pytest.raises(ValueError):
        terbilang(MAX_TERBILANG + 1)


# --- an independent reference ------------------------------------------------------------------------------------

DIGITS = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
SCALES = [(10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu")]


def reference(n: int) -> str:
    """Indonesian number words by the textbook rules (se- for one ten, hundred and thousand)."""
    if n == 0:
        return "nol"
    return " ".join(_words(n))


def _words(n: int) -> list[str]:
    if n == 0:
        return []
    for size, name in SCALES:
        if n >= size:
            head, rest = divmod(n, size)
            # "seribu" but "satu juta", "satu miliar", "satu triliun"
            lead = ["seribu"] if size == 1000 and head == 1 else [*_words(head), name]
            return lead + _words(rest)
    if n >= 100:
        head, rest = divmod(n, 100)
        return (["seratus"] if head == 1 else [DIGITS[head], "ratus"]) + _words(rest)
    if n >= 20:
        tens, unit = divmod(n, 10)
        return [DIGITS[tens], "puluh", *_words(unit)]
    if n >= 12:
        return [DIGITS[n - 10], "belas"]
    if n == 11:
        return ["sebelas"]
    if n == 10:
        return ["sepuluh"]
    return [DIGITS[n]]


def test_the_reference_agrees_with_the_hand_written_list():
    assert {n: reference(n) for n in HAND_WRITTEN} == HAND_WRITTEN


#: Numbers whose three-digit groups are the tricky ones (0, 1, 10-19, 100, 101, ...).
tricky_groups = st.lists(
    st.sampled_from([0, 1, 2, 10, 11, 12, 19, 20, 21, 99, 100, 101, 110, 111, 119, 200, 999]), min_size=1, max_size=5
).map(lambda groups: int("".join(f"{g:03d}" for g in groups)))


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.integers(min_value=0, max_value=MAX_TERBILANG), tricky_groups))
@example(1_001_000)
@example(1_000_001_000_000)
def test_terbilang_matches_the_reference(amount):
    assert terbilang(amount) == reference(amount)
