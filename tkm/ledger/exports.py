"""Funds-trail downloads: CSV streamed line by line, XLSX from a write-only workbook; both in constant memory.

Cells are for people: headings and words in the reader's language (Bahasa Indonesia by default), never the
codes of the JSON (``payment``, ``capital``, ``raw_materials``); money as whole numbers (XLSX: with a rupiah
format), dates as days (XLSX: real dates); text neutralised against formulas (``tkm.core.cells``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

import anyio
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from tkm import regions
from tkm.auth.roles import CurrentUser, Role
from tkm.core import cells
from tkm.core.errors import FieldError, Forbidden, UnsupportedMediaType, invalid
from tkm.core.i18n import N_, _, get_language, gettext
from tkm.ledger import services
from tkm.web.labels import label

FORMATS = ("json", "csv", "xlsx", "pdf")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (
    "at",
    "transaction_id",
    "kind",
    "component",
    "amount",
    "balance_after",
    "reference",
    "actor",
    "reverses",
    "notes",
)
TOTALS = (
    "approved",
    "disbursed",
    "grant_spent",
    "returned",
    "unspent",
    "revenue",
    "own_spent",
    "own_balance",
    "spent",
    "reinvested",
    "released",
)
#: The whole trail (``GET /api/v1/funds-trail``): whose line it is, then the per-grant columns.
WHOLE_COLUMNS = ("application_id", "group", "region", "region_name", *COLUMNS)
#: Column headings, in the reader's language.
HEADINGS = {
    "application_id": N_("Application"),
    "group": N_("Group"),
    "region": N_("Region code"),
    "region_name": N_("Region"),
    "at": N_("Date"),
    "transaction_id": N_("Transaction"),
    "kind": N_("What"),
    "component": N_("Component"),
    "amount": N_("Amount (Rp)"),
    "balance_after": N_("Balance after (Rp)"),
    "reference": N_("Reference"),
    "actor": N_("By"),
    "reverses": N_("Reverses transaction"),
    "notes": N_("Notes"),
}
TOTAL_LABELS = {
    "approved": N_("Approved"),
    "disbursed": N_("Paid to the group"),
    "spent": N_("Spent"),
    "revenue": N_("Sales"),
    "reinvested": N_("Reinvested"),
    "unspent": N_("Not yet spent"),
    "grant_spent": N_("Grant money spent"),
    "returned": N_("Returned to the treasury"),
    "own_spent": N_("Own sales money spent"),
    "own_balance": N_("The group's own money"),
    "released": N_("Released to the programme"),
}
#: Figures of each component in the totals sheet.
COMPONENT_TOTALS = ("approved", "disbursed", "grant_spent", "returned", "unspent")
MONEY_COLUMNS = frozenset({"amount", "balance_after"})
NUMBER_COLUMNS = frozenset({"application_id", "transaction_id", "reverses"})
CHUNK = 64 * 1024
#: Lines per CSV chunk sent to the client.
CSV_LINES_PER_CHUNK = 200

#: Also importable from here; the one shared function of every export is ``tkm.core.cells.safe_text``.
safe_text = cells.safe_text


def check_format(value: str | None) -> str:
    kind = (value or "json").strip().lower()
    if kind not in FORMATS:
        message = _("Unknown format %(format)s; use one of %(formats)s.", format=value, formats=", ".join(FORMATS))
        raise UnsupportedMediaType(message, errors=[FieldError("format", message)])
    return kind


def disposition(application_id: int, extension: str) -> str:
    return f'attachment; filename="funds-trail-{application_id}.{extension}"'


def component_label(code: str) -> str:
    """A line's component in people's words: a budget component (commitments, payments) or an expense
    category (report lines); a reversal carries its original's."""
    return _label(get_language(), code, "trail_component") if code else ""


def kind_label(code: str) -> str:
    return _label(get_language(), code, "entry")


@lru_cache(maxsize=512)
def _label(language: str, code: str, kind: str) -> str:
    """Labels once per language and code: a long export asks for the same few words a million times."""
    return label(code, kind)


@lru_cache(maxsize=4096)
def _region_name(code: str) -> str:
    return regions.name(code)


def headings(columns: tuple[str, ...]) -> list[str]:
    return [gettext(HEADINGS[c]) if c in HEADINGS else c for c in columns]


def readable(line: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    """One trail line's cells: words for codes, the day for the moment, money as integers, text neutralised."""
    values: dict[str, Any] = {}
    for column in columns:
        value = line.get(column)
        if column == "kind":
            value = kind_label(str(value or ""))
        elif column == "component":
            value = component_label(str(value or ""))
        elif column == "region_name":
            value = _region_name(str(line.get("region") or ""))
        elif column == "at":
            value = cells.excel_date(value)
        elif column in MONEY_COLUMNS or column in NUMBER_COLUMNS:
            value = None if value is None else int(value)
        values[column] = cells.safe_text(value) if isinstance(value, str) else value
    return values


def row_of(line: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> list[Any]:
    """A CSV row: dates as ISO days (every spreadsheet reads them), empty cells for nothing."""
    values = readable(line, columns)
    return [
        "" if values[c] is None else (values[c].isoformat() if isinstance(values[c], dt.date) else values[c])
        for c in columns
    ]


async def lines_csv(
    lines: AsyncIterator[dict[str, Any]], columns: tuple[str, ...] = COLUMNS, delimiter: str = ","
) -> AsyncIterator[bytes]:
    """Any trail as CSV, a batch of lines at a time (the lines come from keyset reads in batches)."""
    buffer = io.StringIO()
    buffer.write(cells.BOM)
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headings(columns))
    count = 0
    async for line in lines:
        writer.writerow(row_of(line, columns))
        count += 1
        if count % CSV_LINES_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def csv_chunks(application_id: int, up_to_seq: int, delimiter: str = ",") -> AsyncIterator[bytes]:
    """The CSV of one grant's trail."""
    async for chunk in lines_csv(services.trail(application_id, up_to_seq=up_to_seq), COLUMNS, delimiter):
        yield chunk


class _SheetWriter:
    """Rows for a write-only sheet: money cells carry the rupiah format, dates the date format."""

    def __init__(self, sheet: Any, columns: tuple[str, ...]) -> None:
        self.sheet = sheet
        self.columns = columns
        sheet.append(headings(columns))

    def cell(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in MONEY_COLUMNS:
            return self._formatted(value, cells.RUPIAH_FORMAT)
        if isinstance(value, dt.date):
            return self._formatted(value, cells.DATE_FORMAT)
        return value

    def _formatted(self, value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value)
        cell.number_format = number_format
        return cell

    def append(self, line: dict[str, Any]) -> None:
        values = readable(line, self.columns)
        self.sheet.append([self.cell(c, values[c]) for c in self.columns])


def _totals_rows(totals: dict[str, Any]) -> list[tuple[str, int]]:
    rows = [(gettext(TOTAL_LABELS.get(name, name)), int(totals[name])) for name in TOTALS]
    for component, figures in totals["by_component"].items():
        name = component_label(component)
        for figure in COMPONENT_TOTALS:
            rows.append((f"{name}: {gettext(TOTAL_LABELS[figure])}", int(figures[figure])))
    return rows


async def _saved(workbook: Workbook) -> IO[bytes]:
    target = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # closed by file_chunks
    await anyio.to_thread.run_sync(workbook.save, target)
    target.seek(0)
    return target


#: A worksheet holds at most 1,048,576 rows (Excel's limit): the heading and this many lines.
ROWS_PER_SHEET = 1_048_575


async def lines_xlsx(
    lines: AsyncIterator[dict[str, Any]], columns: tuple[str, ...], rows_per_sheet: int = ROWS_PER_SHEET
) -> IO[bytes]:
    """Any trail as a write-only workbook (rows go to a temporary file, not memory), saved to a temporary file;
    a trail longer than a worksheet goes on in "Funds trail (2)", "(3)", ..."""
    workbook = Workbook(write_only=True)
    title = _("Funds trail")
    writer = _SheetWriter(workbook.create_sheet(title), columns)
    count = 0
    async for line in lines:
        if count and count % rows_per_sheet == 0:
            writer = _SheetWriter(workbook.create_sheet(f"{title} ({count // rows_per_sheet + 1})"), columns)
        writer.append(line)
        count += 1
    return await _saved(workbook)


async def xlsx_file(application_id: int, up_to_seq: int) -> IO[bytes]:
    """One grant's trail and a "Totals" sheet."""
    workbook = Workbook(write_only=True)
    writer = _SheetWriter(workbook.create_sheet(_("Funds trail")), COLUMNS)
    async for line in services.trail(application_id, up_to_seq=up_to_seq):
        writer.append(line)
    totals = await services.totals(application_id, up_to_seq=up_to_seq)
    summary = workbook.create_sheet(_("Totals"))
    summary.append([_("Total"), _("Amount (Rp)")])
    for name, amount in _totals_rows(totals):
        summary.append([cells.safe_text(name), writer._formatted(amount, cells.RUPIAH_FORMAT)])
    return await _saved(workbook)


async def file_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()


# --- the whole trail (GET /api/v1/funds-trail) -------------------------------------------------------------------

#: The whole trail's formats (the per-grant JSON and PDF have no whole-trail counterpart).
WHOLE_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Export:
    chunks: AsyncIterator[bytes]
    media_type: str
    filename: str


def check_day(field: str, value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` query parameter (422 naming ``field`` otherwise)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid(field, _("Not a date: %(value)s; use YYYY-MM-DD.", value=text[:20].replace("\x00", ""))) from None


async def whole_trail_export(
    user: CurrentUser,
    programme: str | None,
    region: str | None,
    date_from: str | None,
    date_to: str | None,
    format: str | None,
    sep: str | None,
) -> Export:
    """Check who asks and what, then the download of every trail line in scope (finance: their regions;
    auditors: everything; anyone else 403)."""
    from tkm.dashboard.services import resolve_filters, scope_for

    if user.role not in (Role.finance, Role.auditor):
        raise Forbidden(_("Only finance staff and auditors read the whole funds trail."))
    kind = (format or "csv").strip().lower()
    if kind not in WHOLE_FORMATS:
        formats = ", ".join(WHOLE_FORMATS)
        message = _("Unknown format %(format)s; use one of %(formats)s.", format=format, formats=formats)
        raise UnsupportedMediaType(message, errors=[FieldError("format", message)])
    delimiter = cells.separator(sep)
    first, last = check_day("from", date_from), check_day("to", date_to)
    if first and last and last < first:
        raise invalid("to", _("The end date is before the start date."))
    filters = await resolve_filters(user, programme, region)
    where, args = scope_for(user, filters).where()
    bound = await services.last_seq()
    lines = services.whole_trail(where, args, date_from=first, date_to=last, up_to_seq=bound)
    name = "funds-trail" + "".join(f"-{part}" for part in (filters.programme, filters.region) if part)
    if kind == "csv":
        return Export(lines_csv(lines, WHOLE_COLUMNS, delimiter), "text/csv; charset=utf-8", f"{name}.csv")
    workbook = await lines_xlsx(lines, WHOLE_COLUMNS)
    return Export(file_chunks(workbook), XLSX_MEDIA_TYPE, f"{name}.xlsx")
