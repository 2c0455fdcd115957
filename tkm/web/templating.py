"""Jinja set-up shared by pages and letters: gettext, money and date filters. Autoescape is always on."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine

from tkm import regions
from tkm.core import i18n, money
from tkm.programmes.services import JAKARTA
from tkm.web import flash, forms, labels, nav


def _gettext(message: str, **params: Any) -> str:
    return i18n.gettext(message, **params)


def _ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return i18n.ngettext(singular, plural, n, **params)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.datetime) else None


def when(value: Any) -> str:
    """A moment in Western Indonesia time: ``24 Maret 2020 14.05 WIB``."""
    moment = _as_datetime(value)
    if moment is None:
        return str(value or "")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(JAKARTA)
    clock = local.strftime("%H.%M" if i18n.get_language() == "id" else "%H:%M")
    return f"{money.long_date(local)} {clock} WIB"


def long_date(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return money.long_date(value)


def region_path(code: str) -> str:
    """``13.71.01`` → "Padang Barat, Kota Padang, Sumatera Barat"."""
    return ", ".join(r.name for r in reversed(regions.lineage(code))) or code


def back_url(request: Any) -> str | None:
    """The same-site page the user came from (for "back" links on error pages), or None."""
    if request is None:
        return None
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def filesize(size: int | None) -> str:
    if not size:
        return "0 kB"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", "," if i18n.get_language() == "id" else ".")


def upload_limit_mb() -> int:
    from tkm.core.settings import get_settings

    return get_settings().max_upload_bytes // (1024 * 1024)


def install(env: Environment) -> Environment:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        _=_gettext,
        language=i18n.get_language,
        languages=i18n.LANGUAGES,
        region_name=regions.name,
        nav_items=nav.items_for,
        pop_flashes=flash.pop_flashes,
        back_url=back_url,
        field_id=forms.field_id,
        upload_limit_mb=upload_limit_mb,
    )
    env.filters.update(
        rupiah=money.rupiah,
        terbilang=money.terbilang_rupiah,
        long_date=long_date,
        when=when,
        number=money.number,
        region_name=regions.name,
        region_path=region_path,
        label=labels.label,
        field_context=labels.field_context,
        field_id=forms.field_id,
        filesize=filesize,
    )
    return env


def configure_environment(engine: JinjaTemplateEngine) -> None:
    install(engine.engine)
