"""Translations (gettext catalogs under tkm/locale, managed with Babel).

Message ids are English; Bahasa Indonesia (``id``) is the default language and
English (``en``) the switch. The .po files are compiled in memory when first
used, so no build step is needed. The language of the current request (or
task) lives in a context variable.
"""

from __future__ import annotations

import contextvars
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
BABEL_LOCALES = {"id": "id_ID", "en": "en_US"}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("tkm_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def get_language() -> str:
    return _language.get()


def set_language(language: str) -> contextvars.Token[str]:
    return _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def reset_language(token: contextvars.Token[str]) -> None:
    _language.reset(token)


def babel_locale(language: str | None = None) -> Locale:
    return Locale.parse(BABEL_LOCALES[language or get_language()])


def gettext(message: str, **params: Any) -> str:
    text = translations(get_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(get_language()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (titles, constants)."""
    return message


def negotiate(accept_language: str | None, cookie: str | None = None, query: str | None = None) -> str:
    """?lang= wins, then the ``lang`` cookie, then Accept-Language, then Indonesian."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    if accept_language:
        weighted: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            piece = part.strip()
            if not piece:
                continue
            tag, _sep, q = piece.partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((weight, tag.strip().lower().split("-")[0]))
        for weight, tag in sorted(weighted, key=lambda item: -item[0]):
            if weight > 0 and tag in LANGUAGES:
                return tag
    return DEFAULT_LANGUAGE
