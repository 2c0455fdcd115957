"""The one PDF renderer: Jinja (autoescape on) → HTML → WeasyPrint, with a locked URL fetcher.

The fetcher serves only the application's own files under ``templates/letters``
and ``tkm/static`` (real paths, so neither ``..`` nor a symlink leads out) and
small ``data:`` URLs. Everything else — other files, ``http(s)``, ``ftp`` —
is refused and logged; WeasyPrint then renders without it. One
``FontConfiguration`` and the parsed print stylesheet are kept per process.
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import os
import threading
from collections.abc import Iterable
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import segno
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

from tkm.core import charts, i18n, money
from tkm.core.settings import get_settings
from tkm.web.templating import install

log = structlog.get_logger(__name__)

STYLESHEET = "letter.css"
PDF_VARIANT = "pdf/a-3u"
MAX_FILE_BYTES = 5 * 1024 * 1024
#: A data: URL longer than this is refused (an inline image in a letter is small).
MAX_DATA_URL_LENGTH = 256 * 1024
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


class RefusedURL(ValueError):
    """The letter asked for something outside the application's own files."""


class LetterFetcher(URLFetcher):
    """Serves files under ``roots`` (real paths) and small data: URLs; refuses everything else."""

    def __init__(
        self,
        roots: Iterable[Path],
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_data_url_length: int = MAX_DATA_URL_LENGTH,
    ) -> None:
        # No protocol reaches urllib's opener: fetch() below answers every URL itself.
        super().__init__(timeout=1, allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.roots = tuple(os.path.realpath(root) for root in roots)
        self.max_file_bytes = max_file_bytes
        self.max_data_url_length = max_data_url_length

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        try:
            if scheme == "data":
                return self._data(url)
            if scheme == "file":
                return self._file(url)
            raise RefusedURL(f"{scheme or 'relative'} URLs are not fetched")
        except RefusedURL as exc:
            log.warning("documents.url_refused", url=url[:200], reason=str(exc))
            raise

    def _inside_roots(self, path: str) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in self.roots)

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL("file URLs on other hosts are not fetched")
        path = unquote(parts.path)
        if ".." in path.split("/"):
            raise RefusedURL("paths with .. are not fetched")
        real = os.path.realpath(path)
        if not self._inside_roots(real):
            raise RefusedURL("only the application's own letter templates and static files are fetched")
        if not os.path.isfile(real):
            raise RefusedURL("not a regular file")
        if os.path.getsize(real) > self.max_file_bytes:
            raise RefusedURL("file too large")
        with open(real, "rb") as fh:
            body = fh.read(self.max_file_bytes + 1)
        if len(body) > self.max_file_bytes:
            raise RefusedURL("file too large")
        content_type = mimetypes.guess_type(real)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _data(self, url: str) -> URLFetcherResponse:
        if len(url) > self.max_data_url_length:
            raise RefusedURL("data URL too large")
        header, comma, payload = url[5:].partition(",")
        if not comma:
            raise RefusedURL("malformed data URL")
        params = header.split(";")
        is_base64 = params[-1].strip().lower() == "base64"
        if is_base64:
            params = params[:-1]
        raw = unquote_to_bytes(payload)
        try:
            body = base64.b64decode(raw) if is_base64 else raw
        except ValueError as exc:
            raise RefusedURL("malformed base64 in data URL") from exc
        content_type = params[0].strip() or "text/plain"
        headers = {"Content-Type": content_type + "".join(f";{p}" for p in params[1:] if p.strip())}
        return URLFetcherResponse(url, body, headers)


# --- template helpers -------------------------------------------------------------------------------------------


def as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def tanggal(value: Any) -> str:
    """``24 Maret 2020`` from a date or an ISO string."""
    day = as_date(value)
    return money.long_date(day, "id") if day else ""


def hari_tanggal_terbilang(value: Any) -> str:
    """As a BAST opens: ``Selasa tanggal dua puluh empat bulan Maret tahun dua ribu dua puluh``."""
    day = as_date(value)
    if day is None:
        return ""
    month = tanggal(day).split(" ")[1]
    return (
        f"{WEEKDAYS[day.weekday()]} tanggal {money.terbilang(day.day)} bulan {month} tahun {money.terbilang(day.year)}"
    )


def nip(value: str) -> str:
    """``19700101 199503 1 001``: a NIP as it is printed (birth date, appointment, sex, serial)."""
    digits = str(value or "").replace(" ", "")
    if len(digits) != 18 or not digits.isdigit():
        return str(value or "")
    return f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"


def full_address(group: dict[str, Any]) -> str:
    """The group's address followed by the parts of its region the address does not already name (no
    "Kota Padang, Kota Padang")."""
    address = str(group.get("address") or "").strip().rstrip(",")
    said = {w.strip(" .").lower() for w in address.replace(",", " ,").split(",")}
    said_text = address.lower()

    def named(part: str) -> bool:
        # "Kota Padang" is named by an address that already ends in "Padang".
        core = part
        for prefix in ("Kota Administrasi ", "Kota ", "Kabupaten ", "Kab. ", "Provinsi "):
            core = core.removeprefix(prefix)
        return part.lower() in said_text or core.lower() in said

    parts = [p for p in str(group.get("region_path") or "").split(", ") if p and not named(p)]
    return ", ".join([address, *parts] if address else parts) or "-"


def code_groups(code: str) -> str:
    """``ABCD-EFGH-JKMN``: how a verification code is printed."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def qr_svg(url: str) -> Markup:
    """The QR code of ``url`` as inline SVG (segno writes only its own path data)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=1, border=0, omitsize=True))  # noqa: S704


def make_environment(letters_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(letters_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(env)
    env.filters.update(
        long_date=tanggal,
        tanggal=tanggal,
        hari_tanggal_terbilang=hari_tanggal_terbilang,
        code_groups=code_groups,
        nip=nip,
        full_address=full_address,
    )
    # Letters draw their charts with the print profile: small type, a fixed size, no ids.
    env.globals.update(
        qr_svg=qr_svg,
        bar_chart=partial(charts.bar_chart, profile=charts.PRINT),
        column_chart=partial(charts.column_chart, profile=charts.PRINT),
    )
    return env


# --- the renderer -----------------------------------------------------------------------------------------------


class Renderer:
    """Everything parsed once per process: the Jinja environment, the fonts and the print stylesheet."""

    def __init__(self, templates_dir: Path, static_dir: Path) -> None:
        self.letters_dir = Path(templates_dir) / "letters"
        self.static_dir = Path(static_dir)
        self.fetcher = LetterFetcher([self.letters_dir, self.static_dir])
        self.font_config = FontConfiguration()
        self.base_url = path2url(str(self.letters_dir))  # a directory: ends with "/"
        self.static_url = path2url(str(self.static_dir))
        self.env = make_environment(self.letters_dir)
        self.stylesheet = CSS(
            url=path2url(str(self.letters_dir / STYLESHEET)),
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        # WeasyPrint objects are not meant to be shared between threads; a worker renders one letter at a time.
        self._lock = threading.Lock()

    def html(self, kind: str, context: dict[str, Any]) -> str:
        token = i18n.set_language("id")  # letters are always in Bahasa Indonesia
        try:
            return self.env.get_template(f"{kind}.html").render(**context, static_url=self.static_url)
        finally:
            i18n.reset_language(token)

    def pdf(self, html: str) -> bytes:
        with self._lock:
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
            return document.write_pdf(
                stylesheets=[self.stylesheet], font_config=self.font_config, pdf_variant=PDF_VARIANT
            )

    def render(self, kind: str, context: dict[str, Any]) -> bytes:
        return self.pdf(self.html(kind, context))


@cache
def _renderer(templates_dir: Path, static_dir: Path) -> Renderer:
    return Renderer(templates_dir, static_dir)


def get_renderer() -> Renderer:
    settings = get_settings()
    return _renderer(settings.templates_dir, settings.static_dir)
