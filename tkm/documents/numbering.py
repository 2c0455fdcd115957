"""Register numbers: the office's pattern, and the gapless counter per office, kind and year.

A number is taken inside the issuing transaction: the counter row is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transaction
already serialises writers) and advanced by one. A transaction that rolls
back gives its number back with everything else, so the register has neither
holes nor duplicates.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

from tkm.core import db
from tkm.core.i18n import _
from tkm.documents.tables import DocumentCounter

#: No office name is assumed: an office that writes "DISNAKER-" in its numbers puts it in its own pattern.
DEFAULT_PATTERN = "{seq:03d}/{class}/{office}/{roman_month}/{year}"
#: The pattern before offices chose their own (a data migration moves offices that kept it to the default).
OLD_DEFAULT_PATTERN = "{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}"
#: ``class`` is the kind's classification code (``kind_code`` is its older name), ``roman_month`` the month in
#: Roman numerals (``month_roman`` likewise).
FIELDS = ("seq", "class", "kind_code", "office", "roman_month", "month_roman", "month", "year")
#: Without these a number could repeat across kinds, offices or years (either name of a pair will do).
REQUIRED_FIELDS = (("seq",), ("class", "kind_code"), ("office",), ("year",))
MAX_NUMBER_LENGTH = 200
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def format_number(pattern: str, *, seq: int, kind_code: str, office: str, on: dt.date) -> str:
    roman = ROMAN_MONTHS[on.month - 1]
    values = {"class": kind_code, "kind_code": kind_code, "roman_month": roman, "month_roman": roman}
    return pattern.format(seq=seq, office=office, month=on.month, year=on.year, **values)


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` cannot number letters, or None. Only the named fields, no attribute or index access."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return _("The pattern has an unmatched { or }.")
    used = set()
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            return _("Unknown field {%(name)s}; use %(fields)s.", name=name, fields=", ".join(FIELDS))
        if conversion or (spec and "{" in spec):
            return _("Write fields plainly, e.g. {seq:03d}.")
        used.add(name)
    if "seq" not in used:
        return _("The pattern must contain {seq}, the running number.")
    missing = [names for names in REQUIRED_FIELDS if not used.intersection(names)]
    if missing:
        wanted = ", ".join(" or ".join(f"{{{n}}}" for n in names) for names in missing)
        return _("The pattern must contain %(fields)s.", fields=wanted)
    try:
        sample = format_number(pattern, seq=12345, kind_code="BAST", office="X" * 20, on=dt.date(2020, 12, 24))
    except (ValueError, TypeError):
        return _("A field has a format that does not fit it (e.g. {seq:03d} is fine, {office:d} is not).")
    if len(sample) > MAX_NUMBER_LENGTH:
        return _("Numbers made from this pattern would be too long.")
    return None


@dataclass(frozen=True)
class Counter:
    id: int
    last_seq: int


async def lock(office: str, kind: str, year: int) -> Counter:
    """Lock (creating it if needed) the counter of ``office``/``kind``/``year`` until the transaction ends."""
    if not db.in_transaction():
        raise RuntimeError("numbering.lock() must run inside db.transaction()")
    await db.execute(
        "INSERT INTO document_counters (office, kind, year, last_seq) VALUES ({}, {}, {}, 0) "
        "ON CONFLICT (office, kind, year) DO NOTHING",
        office,
        kind,
        year,
    )
    query = DocumentCounter.select(DocumentCounter.id, DocumentCounter.last_seq).where(
        DocumentCounter.office == office, DocumentCounter.kind == kind, DocumentCounter.year == year
    )
    row = await db.for_update(query).first()
    return Counter(int(row["id"]), int(row["last_seq"]))


async def advance(counter: Counter) -> int:
    """Take the next number of a counter locked by ``lock`` in this transaction."""
    seq = counter.last_seq + 1
    await DocumentCounter.update({DocumentCounter.last_seq: seq}).where(DocumentCounter.id == counter.id)
    return seq
