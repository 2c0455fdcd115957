import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tkm import regions
from tkm.groups.nik import NikError, parse_nik

TODAY = dt.date(2026, 11, 29)


@pytest.fixture(autouse=True)
def english():
    from tkm.core import i18n

    token = i18n.set_language("en")
    yield
    i18n.reset_language(token)


def test_a_real_padang_nik_is_read():
    info = parse_nik("1371015203850001", TODAY)  # Padang Selatan, woman born 12 March 1985
    assert info.district == "13.71.01"
    assert info.birth_date == dt.date(1985, 3, 12)
    assert info.gender == "P"
    man = parse_nik("1371011203850002", TODAY)
    assert man.gender == "L" and man.birth_date == dt.date(1985, 3, 12)


@pytest.mark.parametrize(
    ("nik", "fragment"),
    [
        ("137101120385000", "16 digits"),  # 15 digits
        ("13710112038500012", "16 digits"),  # 17 digits
        ("13710112O3850001", "16 digits"),  # a letter O
        ("１３７１０１１２０３８５０００１", "16 digits"),  # full-width digits are not ASCII digits
        ("9971011203850001", "district"),  # unknown province 99
        ("1399991203850001", "district"),  # unknown regency
        ("1371013102850001", "birth date"),  # 31 February
        ("1371017102850001", "birth date"),  # 31 February for a woman (71 - 40)
        ("1371010013850001", "birth date"),  # month 13
        ("1371010001850001", "birth date"),  # day 00
        ("1371011512260001", "future"),  # 15 December 2026, after TODAY
        ("1371011203850000", "0000"),
    ],
)
def test_bad_niks_are_refused_with_a_reason(nik, fragment):
    with pytest.raises(NikError, match=fragment):
        parse_nik(nik, TODAY)


def test_non_strings_are_refused():
    with pytest.raises(NikError):
        parse_nik(1371011203850001, TODAY)


districts = sorted(r.code for r in regions._index().values() if r.level == "district")


@given(
    district=st.sampled_from(districts),
    birth=st.dates(min_value=dt.date(1927, 1, 1), max_value=TODAY),
    female=st.booleans(),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_any_well_formed_nik_round_trips(district, birth, female, serial):
    day = birth.day + (40 if female else 0)
    nik = f"{district.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
    info = parse_nik(nik, TODAY)
    assert info.district == district
    assert info.gender == ("P" if female else "L")
    assert info.birth_date == birth
