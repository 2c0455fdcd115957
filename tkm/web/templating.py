"""Jinja set-up shared by pages and letters: gettext, money and date filters. Autoescape is always on."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine

from tkm import regions
from tkm.core import i18n, money


def _gettext(message: str, **params: Any) -> str:
    return i18n.gettext(message, **params)


def _ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return i18n.ngettext(singular, plural, n, **params)


def install(env: Environment) -> Environment:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        _=_gettext,
        language=i18n.get_language,
        languages=i18n.LANGUAGES,
        region_name=regions.name,
    )
    env.filters.update(
        rupiah=money.rupiah,
        terbilang=money.terbilang_rupiah,
        long_date=lambda value: money.long_date(value) if value else "",
        number=money.number,
        region_name=regions.name,
    )
    return env


def configure_environment(engine: JinjaTemplateEngine) -> None:
    install(engine.engine)
