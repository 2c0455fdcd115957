"""Schemathesis hooks for tests/resilience/test_schemathesis.py (loaded through ``SCHEMATHESIS_HOOKS``)."""

from __future__ import annotations

import re
from typing import Any

import schemathesis

#: A Python type name in backticks (msgspec's wording), an exception class, a traceback, a library name.
LEAKS = re.compile(
    r"Traceback|File \"|`(?:str|int|float|bool|object|array|null|list|bytes)\b[^`]*`|"
    r"\b(?:NoneType|dict|bytes|UploadFile|ValueError|TypeError|KeyError|DataError|asyncpg|msgspec|litestar|"
    r"piccolo)\b|<class"
)


@schemathesis.check
def problems_in_words(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is problem+json, and no problem shows a Python type name or a traceback."""
    if response.status_code < 400:
        return None
    media = response.headers.get("content-type", [""])
    media = media[0] if isinstance(media, list) else media
    if not media.startswith("application/problem+json"):
        raise AssertionError(f"{response.status_code} answered as {media!r}, not application/problem+json")
    if found := LEAKS.search(response.text):
        raise AssertionError(f"the problem shows {found.group()!r}: {response.text[:300]}")
    return True
