"""Funds-trail downloads: CSV streamed line by line, XLSX from a write-only workbook; both in constant memory."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

import anyio
from openpyxl import Workbook

from tkm.core.errors import FieldError, UnsupportedMediaType
from tkm.core.i18n import _
from tkm.ledger import services

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
TEXT_COLUMNS = frozenset({"reference", "actor", "notes", "component", "kind", "at"})
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
)
#: Spreadsheet programs run a cell that starts with one of these as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024


def check_format(value: str | None) -> str:
    kind = (value or "json").strip().lower()
    if kind not in FORMATS:
        message = _("Unknown format %(format)s; use one of %(formats)s.", format=value, formats=", ".join(FORMATS))
        raise UnsupportedMediaType(message, errors=[FieldError("format", message)])
    return kind


def disposition(application_id: int, extension: str) -> str:
    return f'attachment; filename="funds-trail-{application_id}.{extension}"'


def safe_text(value: Any) -> Any:
    """Text cells that a spreadsheet would read as a formula get a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def row_of(line: dict[str, Any]) -> list[Any]:
    row = []
    for column in COLUMNS:
        value = line[column]
        row.append(safe_text(value) if column in TEXT_COLUMNS else ("" if value is None else value))
    return row


async def csv_chunks(application_id: int, up_to_seq: int) -> AsyncIterator[bytes]:
    """The CSV, a batch of lines at a time (``trail`` reads the database in batches too)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the byte-order mark makes spreadsheet programs read the file as UTF-8
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    async for line in services.trail(application_id, up_to_seq=up_to_seq):
        writer.writerow(row_of(line))
        count += 1
        if count % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def xlsx_file(application_id: int, up_to_seq: int) -> IO[bytes]:
    """A write-only workbook (rows go to a temporary file, not memory), saved to a spooled temporary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Funds trail"))
    sheet.append(list(COLUMNS))
    async for line in services.trail(application_id, up_to_seq=up_to_seq):
        sheet.append(row_of(line))
    totals = await services.totals(application_id, up_to_seq=up_to_seq)
    summary = workbook.create_sheet(_("Totals"))
    summary.append(["total", "amount"])
    for name in TOTALS:
        summary.append([name, totals[name]])
    for component, figures in totals["by_component"].items():
        for name in ("approved", "disbursed", "grant_spent", "returned", "unspent"):
            summary.append([f"{component}.{name}", figures[name]])
    target = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # closed by file_chunks
    await anyio.to_thread.run_sync(workbook.save, target)
    target.seek(0)
    return target


async def file_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()
