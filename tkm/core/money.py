"""Rupiah: integers everywhere; Indonesian figures, words (terbilang) and dates for people."""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from num2words import num2words

from tkm.core.i18n import babel_locale, get_language

MAX_TERBILANG = 999_999_999_999_999  # up to 999 trillion

# num2words writes "satu juta satu ribu" for 1,001,000; a thousands group of exactly one is "seribu".
_SATU_RIBU = re.compile(r"(^|\b(?:juta|miliar|triliun) )satu ribu\b")


def rupiah(amount: int, language: str | None = None) -> str:
    """``Rp1.500.000`` (no decimals: the rupiah has no cents in practice)."""
    locale = babel_locale(language or "id") if language else babel_locale("id")
    return format_currency(amount, "IDR", locale=locale, format="¤#,##0", currency_digits=False)


def number(value: int | float, language: str | None = None) -> str:
    return format_decimal(value, locale=babel_locale(language or get_language()))


def terbilang(amount: int) -> str:
    """The amount in Indonesian words: 21001000 → "dua puluh satu juta seribu"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("terbilang needs an int number of rupiah")
    if amount < 0:
        return "minus " + terbilang(-amount)
    if amount > MAX_TERBILANG:
        raise ValueError("terbilang supports amounts up to 999 trillion")
    return _SATU_RIBU.sub(r"\1seribu", num2words(amount, lang="id"))


def terbilang_rupiah(amount: int) -> str:
    """As written on letters: "dua puluh satu juta seribu rupiah"."""
    return f"{terbilang(amount)} rupiah"


def long_date(value: dt.date | dt.datetime, language: str | None = None) -> str:
    """``24 Maret 2020``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, "long", locale=babel_locale(language or get_language()))
