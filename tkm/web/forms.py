"""Reading HTML forms into the shapes the services take, and the services' errors back onto the form.

Field names in forms are the same paths the services use in ``FieldError.field``
(``name``, ``bank_account.number``, ``members[2].nik``, ``budget[0].quantity``),
so an error lands next to the input that caused it without any mapping table.
Only presentation lives here: turning typed text into ints and lists. Every
rule about what is *valid* stays in the services.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from tkm.core.errors import FieldError, Problem, ValidationProblem
from tkm.core.i18n import _

_INDEXED = re.compile(r"^(?P<prefix>[a-z_.]+)\[(?P<index>[0-9]{1,4})\]\.(?P<field>[a-z_]+)$")
_AMOUNT_JUNK = re.compile(r"[\s._]|^rp", re.IGNORECASE)
#: At most this many rows of one list are read from a form (members, budget lines, products).
MAX_ROWS = 200


def field_id(name: str) -> str:
    """An HTML id for a field path: ``members[2].nik`` → ``f-members-2-nik``."""
    return "f-" + re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9_]", "-", name)).strip("-")


def values(form: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The text of plain (non-list) fields; missing ones are empty strings."""
    out = {}
    for name in names:
        value = form.get(name, "")
        out[name] = value if isinstance(value, str) else ""
    return out


def rows(form: Any, prefix: str, fields: Iterable[str], *, text_fields: Iterable[str] = ()) -> list[dict[str, str]]:
    """Rows of a dynamic list (``prefix[i].field``), in index order, with gaps closed up.

    A row whose ``text_fields`` are all blank is an empty row the user did not fill in and is dropped.
    """
    wanted = set(fields)
    found: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items() if hasattr(form, "multi_items") else form.items():
        match = _INDEXED.match(key)
        if not match or match["prefix"] != prefix or match["field"] not in wanted or not isinstance(value, str):
            continue
        found.setdefault(int(match["index"]), {})[match["field"]] = value
    out = []
    blank_check = tuple(text_fields) or tuple(wanted)
    for index in sorted(found)[:MAX_ROWS]:
        row = {name: found[index].get(name, "") for name in fields}
        if all(not row[name].strip() for name in blank_check):
            continue
        out.append(row)
    return out


def parse_amount(text: str | None) -> int | None:
    """``"Rp1.500.000"``, ``"1 500 000"`` or ``"1500000"`` → 1500000; anything else → None."""
    if text is None:
        return None
    cleaned = _AMOUNT_JUNK.sub("", text.strip())
    if not cleaned or not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 15:
        return None
    return int(cleaned)


def int_or_text(text: str) -> int | str:
    """An int when the text is one (``1.500`` counts), else the text as typed, for the service to refuse."""
    number = parse_amount(text)
    return number if number is not None else text


def chosen_file(form: Mapping[str, Any], name: str = "file") -> UploadFile:
    """The file picked in an upload form; 422 naming the field when none was chosen."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Problem(_("Choose a file to upload."), status=422, errors=[FieldError(name, _("Choose a file."))])
    return upload


class FormErrors:
    """Field errors keyed by field path, plus the problem's detail for the summary at the top of a form."""

    def __init__(self, errors: Iterable[FieldError] = (), message: str = "") -> None:
        self.by_field: dict[str, str] = {}
        self.message = message
        for error in errors:
            self.add(error.field, error.message)

    @classmethod
    def from_problem(cls, problem: Problem, *, summary: str = "") -> FormErrors:
        """``summary`` heads the form when the only errors are beside fields (e.g. on a small action form)."""
        errors = cls(problem.errors)
        if not problem.errors or problem.status not in (400, 422):
            errors.message = problem.detail
        elif summary:
            errors.message = summary
        return errors

    def add(self, field: str, message: str) -> None:
        if field in self.by_field:
            if message not in self.by_field[field]:
                self.by_field[field] += " " + message
        else:
            self.by_field[field] = message

    def get(self, field: str, default: str = "") -> str:
        return self.by_field.get(field, default)

    def under(self, prefix: str) -> dict[str, str]:
        """Errors whose field starts with ``prefix`` (e.g. every ``budget.<component>`` total)."""
        return {k: v for k, v in self.by_field.items() if k.startswith(prefix)}

    def items(self) -> list[tuple[str, str]]:
        return list(self.by_field.items())

    def __bool__(self) -> bool:
        return bool(self.by_field or self.message)

    def __contains__(self, field: object) -> bool:
        return field in self.by_field


def convert(data: dict[str, Any], schema: type[Any]) -> Any:
    """Build the API's request struct from form data with the API's own type checks.

    A type error (only possible when someone edits the form by hand) becomes a field error.
    """
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = ""
        match = re.search(r"at `\$\.?([^`]*)`", message)
        if match:
            path = match.group(1)
        raise ValidationProblem(
            [FieldError(path or "form", _("Choose one of the offered values."))],
            detail=_("Some answers are not in the expected form."),
        ) from None
