"""NIK (Nomor Induk Kependudukan) checks.

16 digits: district code (6, must be a real Kemendagri district), birth date
DDMMYY (women add 40 to the day), serial (4, not 0000).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tkm import regions
from tkm.core.i18n import _


@dataclass(frozen=True)
class NikInfo:
    nik: str
    district: str
    birth_date: dt.date
    gender: str  # L | P


class NikError(ValueError):
    pass


def parse_nik(nik: object, today: dt.date | None = None) -> NikInfo:
    """The facts encoded in a NIK; raises NikError with a message for people."""
    today = today or dt.date.today()
    if not isinstance(nik, str) or len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise NikError(_("A NIK is exactly 16 digits."))
    district = regions.district_for_nik_prefix(nik[:6])
    if district is None:
        raise NikError(_("The first 6 digits (%(code)s) are not a known district.", code=nik[:6]))
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    gender = "L"
    if day > 40:
        day -= 40
        gender = "P"
    # Two-digit years: a year not after this one is in this century, otherwise the last.
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        birth = dt.date(year, month, day)
    except ValueError:
        raise NikError(_("Digits 7 to 12 are not a real birth date (%(ddmmyy)s).", ddmmyy=nik[6:12])) from None
    if birth > today:
        raise NikError(_("The birth date in this NIK (%(date)s) is in the future.", date=birth.isoformat()))
    if nik[12:] == "0000":
        raise NikError(_("The last 4 digits of a NIK cannot be 0000."))
    return NikInfo(nik=nik, district=district.code, birth_date=birth, gender=gender)
