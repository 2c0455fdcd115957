"""One gate for every piece of text that enters: the path, the query string, headers and bodies.

``InputGuardMiddleware`` runs after routing and before sessions, CSRF and handlers, so no service ever sees:

- an id in the path outside its column's range (every id is an ``int4`` serial) or written with other
  digits than 0-9 (``int()`` reads ``٣`` and ``3_000``): 404, as for any id that does not exist;
- NUL and other control characters (C0, DEL, C1) or lone surrogates in the query string, headers, form
  and multipart fields, file names, or any string or key of a JSON body at any depth: 422 naming the
  field. Tab, line feed and carriage return are text in body values (multi-line notes), nowhere else;
- JSON nested deeper than ``MAX_JSON_DEPTH`` (counted before decoding; the decoder would recurse): 400;
  a JSON body over ``MAX_JSON_BYTES``: 413;
- a multipart body that sends one field twice (two ``file`` parts): 422 naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tkm.core.errors import BadRequest, FieldError, NotFound, PayloadTooLarge, ValidationProblem
from tkm.core.i18n import _

#: Every table's id is a Piccolo ``Serial`` (PostgreSQL ``integer``).
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32
#: Litestar's ``multipart_form_part_limit``: more parts are refused while parsing.
MAX_PARTS = 1000
#: JSON bodies here are forms (a group with its members, a report): 1 MB is far beyond any of them.
MAX_JSON_BYTES = 1024 * 1024
#: Control characters, DEL, C1 controls and lone surrogates; ``_IN_TEXT`` lets tab, LF and CR through.
_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_HEADER_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_JSON_SPECIAL = re.compile(rb'["\\\[\]{}]')
_ASCII_ID = re.compile(r"[0-9]{1,10}")
_DISPOSITION_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def control_message() -> str:
    return _("Control characters (such as NUL) are not allowed here.")


def has_control(text: str, *, multiline: bool = False) -> bool:
    return bool((_IN_TEXT if multiline else _IN_LINE).search(text))


def ascii_int(text: str, *, maximum: int = INT4_MAX) -> int | None:
    """``"42"`` → 42; anything but 1-10 ASCII digits within ``1..maximum`` (``"²"``, ``"٣"``, ``"3_0"``) → None."""
    if not _ASCII_ID.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def id_in_range(value: int | None) -> bool:
    return value is None or 1 <= value <= INT4_MAX


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted.

    One pass over the bytes that matter (quotes, backslashes, brackets): linear, whatever the body.
    """
    depth = deepest = 0
    in_string = False
    escaped = -1  # the position a backslash in a string escapes
    for match in _JSON_SPECIAL.finditer(body):
        pos = match.start()
        if pos == escaped:
            continue
        char = body[pos]
        if in_string:
            if char == 0x5C:  # backslash
                escaped = pos + 1
            elif char == 0x22:  # closing quote
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif char in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field, message) for each unusable value: text with control characters (values or keys, at any
    depth: ``members[0].name``), an integer beyond 64 bits, an ``id``/``*_id`` outside its column's range."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if has_control(item, multiline=True):
                yield where or "body", control_message()
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            name = where.rsplit(".", 1)[-1]
            if (name == "id" or name.endswith("_id")) and not id_in_range(item):
                yield where, _("Give the number of an existing record.")
            elif abs(item) > INT8_MAX:
                yield where or "body", _("The number is too large.")
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and has_control(key):
                    yield where or "body", control_message()
                    continue
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where or 'body'}[{i}]") for i, child in enumerate(item))


def _refuse(fields: list[str]) -> ValidationProblem:
    seen = list(dict.fromkeys(fields))
    return ValidationProblem([FieldError(f, control_message()) for f in seen])


def check_pairs(pairs: list[tuple[str, str]], *, multiline_values: bool) -> None:
    bad = [
        "form" if has_control(k) else k
        for k, v in pairs
        if has_control(k) or has_control(v, multiline=multiline_values)
    ]
    if bad:
        raise _refuse(bad)


def check_query_ids(pairs: list[tuple[str, str]]) -> None:
    """``?group_id=`` and the like name a row: 0-9 only, within the column's range."""
    bad = [k for k, v in pairs if (k == "id" or k.endswith("_id")) and v and ascii_int(v) is None]
    if bad:
        message = _("Give the number of an existing record (digits 0-9).")
        raise ValidationProblem([FieldError(k, message) for k in dict.fromkeys(bad)])


def _parse_pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ValidationProblem([FieldError(where, _("The text is not valid UTF-8."))]) from None


def _check_path(scope: Scope) -> None:
    if has_control(scope.get("path", "")):
        raise NotFound(_("Not found"))
    segments = set(scope.get("path", "").split("/"))
    for value in (scope.get("path_params") or {}).values():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            # 2**31 would reach the database as an error; "٣" or "3_000" would be read as 3 or 3000.
            if not id_in_range(value) or str(value) not in segments:
                raise NotFound(_("Not found"))
        elif isinstance(value, str) and has_control(value):
            raise NotFound(_("Not found"))


def _check_headers(scope: Scope) -> None:
    bad = [name.decode("latin-1") for name, value in scope.get("headers", []) if _BAD_HEADER_BYTES.search(value)]
    if bad:
        raise _refuse(bad)


def _disposition(head: bytes) -> dict[str, str]:
    """The parameters of a part's Content-Disposition (``name``, ``filename``); others ignored."""
    for line in head.split(b"\r\n"):
        key, sep, rest = line.partition(b":")
        if sep and key.strip().lower() == b"content-disposition":
            # Bounded: the parameter pattern backtracks on a long run of escaped quotes.
            text = rest[:4096].decode("utf-8", errors="surrogateescape")
            return {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _DISPOSITION_PARAM.finditer(text)}
    return {}


def check_multipart(body: bytes, boundary: bytes) -> None:
    delimiter = b"--" + boundary
    seen: dict[str, int] = {}
    bad: list[str] = []
    for number, chunk in enumerate(body.split(delimiter, MAX_PARTS + 1)[1:]):
        if chunk.startswith(b"--") or number >= MAX_PARTS:
            break  # past Litestar's own part limit, which refuses the body
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        params = _disposition(head)
        name = params.get("name", "")
        if has_control(name):
            bad.append("form")
            continue
        seen[name] = seen.get(name, 0) + 1
        filename = params.get("filename") or params.get("filename*") or ""
        if "filename" in params or "filename*" in params:
            if has_control(filename):
                bad.append(name or "file")
        elif len(content) <= 1024 * 1024:
            text = content.removesuffix(b"\r\n").decode("utf-8", errors="replace")
            if has_control(text, multiline=True):
                bad.append(name or "form")
    if bad:
        raise _refuse(bad)
    repeated = [name for name, count in seen.items() if count > 1 and name]
    if repeated:
        raise ValidationProblem(
            [FieldError(name, _("Send this field once (one file per upload).")) for name in repeated]
        )


def check_json(body: bytes) -> None:
    if len(body) > MAX_JSON_BYTES:
        raise PayloadTooLarge(
            _("A JSON body may be at most %(mb)d MB.", mb=MAX_JSON_BYTES // (1024 * 1024)),
            errors=[FieldError("body", _("Too large."))],
        )
    if json_depth(body) > MAX_JSON_DEPTH:
        message = _("The JSON is nested too deeply (more than %(max)d levels).", max=MAX_JSON_DEPTH)
        raise BadRequest(message, errors=[FieldError("body", message)])
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return  # the handler answers malformed JSON with its own 400
    bad = dict(_walk(decoded, ""))
    if bad:
        raise ValidationProblem([FieldError(field, message) for field, message in bad.items()])


def _content_type(scope: Scope) -> tuple[str, dict[str, str]]:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            main, *params = value.decode("latin-1").split(";")
            options = {}
            for param in params:
                key, _sep, val = param.strip().partition("=")
                options[key.lower()] = val.strip('"')
            return main.strip().lower(), options
    return "", {}


class InputGuardMiddleware:
    """Refuses unusable input before anything reads it (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body: int = 64 * 1024 * 1024) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _check_path(scope)
        _check_headers(scope)
        query = scope.get("query_string", b"")
        if query:
            pairs = _parse_pairs(query, "query")
            check_pairs(pairs, multiline_values=False)
            check_query_ids(pairs)
        media, options = _content_type(scope)
        inspect_json = media == "application/json" or media.endswith("+json")
        inspect_form = media == "application/x-www-form-urlencoded"
        inspect_multipart = media == "multipart/form-data" and options.get("boundary")
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or not (inspect_json or inspect_form or inspect_multipart):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        complete = False
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
            if size > self.max_body:
                break  # too large: Litestar answers 413 while reading the rest
        if complete:
            body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
            if inspect_json:
                check_json(body)
            elif inspect_form:
                check_pairs(_parse_pairs(body, "form"), multiline_values=True)
            else:
                check_multipart(body, options["boundary"].encode("latin-1"))

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
