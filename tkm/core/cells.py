"""Cells of every CSV and XLSX download: formula neutralising, separators, number and date formats.

A spreadsheet program runs a cell that starts with ``= + - @`` (or a tab or carriage return) as a formula
(CSV/formula injection). Every text cell of every export goes through :func:`safe_text`; numbers stay
numbers (a negative amount is a number, not text that starts with ``-``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tkm.core.errors import invalid
from tkm.core.i18n import _
from tkm.programmes.services import JAKARTA  # dates of the money are Western Indonesia days, as letters print

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: XLSX number formats: whole rupiah with thousands separators (Excel shows them in the reader's locale).
RUPIAH_FORMAT = '"Rp"#,##0;-"Rp"#,##0'
DATE_FORMAT = "dd/mm/yyyy"

#: ``?sep=`` values: a comma by default, a semicolon for spreadsheet programs set to Indonesian (where the
#: comma is the decimal mark).
SEPARATORS = {"": ",", ",": ",", "comma": ",", ";": ";", "semicolon": ";"}

#: The byte-order mark that makes spreadsheet programs read a CSV as UTF-8.
BOM = "\ufeff"


def safe_text(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def separator(value: str | None) -> str:
    """The CSV field separator asked for with ``?sep=`` (422 naming ``sep`` for anything else)."""
    key = (value or "").strip().lower()
    if key not in SEPARATORS:
        raise invalid("sep", _("Unknown separator %(sep)s; use comma or semicolon.", sep=(value or "")[:20]))
    return SEPARATORS[key]


def excel_date(value: Any) -> dt.date | None:
    """A line's date as a real date for a spreadsheet cell (timestamps become their day in Western Indonesia
    time, which is what letters and pages print)."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if ("T" in value or " " in value) else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(JAKARTA).date()
    return value
