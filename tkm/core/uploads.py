"""Uploaded files a reviewer can open safely: what a file really is, what it may carry, what it is called.

- PDFs are parsed (pypdf) and refused when anything in them can act on its own: JavaScript, Launch
  and other actions, actions run on opening or on events, embedded files, XFA forms, rich media.
- Polyglots are refused: a file whose first bytes are also HTML or another markup a browser would
  render, a PDF with HTML anywhere in it, and anything that is also a ZIP archive.
- Images are decoded and encoded again (Pillow) within ``MAX_PIXELS``: what is stored is only pixels
  (and the colour profile). The camera's GPS position and the time the photo was taken are kept as
  data (``Checked.metadata``) for the monitoring that reads them; every other EXIF field is dropped.
- Stored names lose controls, bidi and other invisible characters, path parts and Windows-reserved
  characters, are cut to ``MAX_STEM`` characters, and end in the extension of the sniffed type.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tkm.core.errors import FieldError, UnsupportedMediaType, ValidationProblem
from tkm.core.i18n import N_, _, gettext

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
MAGIC = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
#: 40 megapixels: more than any phone camera; a decompression bomb is refused before it is decoded.
MAX_PIXELS = 40_000_000
MAX_STEM = 120
#: A PDF that needs more objects than this to look through is refused rather than walked for minutes.
MAX_PDF_OBJECTS = 200_000

#: Markup a browser would render, looked for in the first KB (where sniffers look) and, in PDFs, anywhere.
_HTML_HEAD = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|frame|svg|object|embed|meta|style|title|img|a|div|"
    rb"p|br|b|h1|table|font|form|base|link)[\s>/]",
    re.IGNORECASE,
)
_HTML_ANYWHERE = re.compile(rb"<(?:!doctype\s+html|html|script|iframe|svg|body)[\s>/]", re.IGNORECASE)

#: Keys of a PDF dictionary that mean the file can do something by itself.
_PDF_KEYS = {
    "/JavaScript": N_("JavaScript"),
    "/JS": N_("JavaScript"),
    "/Launch": N_("an action that starts a program (Launch)"),
    "/OpenAction": N_("an action run when the file is opened (OpenAction)"),
    "/AA": N_("actions run on events (AA)"),
    "/EmbeddedFile": N_("an embedded file"),
    "/EmbeddedFiles": N_("an embedded file"),
    "/EF": N_("an embedded file"),
    "/RichMedia": N_("embedded media (RichMedia)"),
    "/XFA": N_("an XFA form"),
}
#: Action types (``/S``) that are refused wherever they sit (links, form fields, outlines).
_PDF_ACTIONS = {
    "/JavaScript": N_("JavaScript"),
    "/Launch": N_("an action that starts a program (Launch)"),
    "/SubmitForm": N_("an action that sends a form (SubmitForm)"),
    "/ImportData": N_("an action that imports data (ImportData)"),
    "/GoToE": N_("a link into an embedded file (GoToE)"),
    "/GoToR": N_("a link that opens another file (GoToR)"),
    "/RichMediaExecute": N_("embedded media (RichMedia)"),
}


@dataclass(frozen=True)
class Checked:
    """What is stored: ``path`` is the file to keep (re-encoded for images)."""

    content_type: str
    path: Path
    size: int
    sha256: str
    metadata: dict[str, Any] | None


def _file_problem(message: str, *, status: int = 422) -> ValidationProblem | UnsupportedMediaType:
    if status == 415:
        return UnsupportedMediaType(message, errors=[FieldError("file", message)])
    return ValidationProblem([FieldError("file", message)], detail=message)


# --- names -------------------------------------------------------------------------------------------


def stored_name(name: str | None, content_type: str) -> str:
    """``"..\\\\x\u202egpj.html"`` as a JPEG → ``"xgpj.jpg"``: the name shown and sent on download."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc controls, Cf format characters (bidi overrides such as RTLO, zero-width), surrogates, private use,
    # unassigned, line and paragraph separators.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    text = re.sub(r'[<>:"|?*]', "_", text)
    text = re.sub(r"\s+", " ", text).strip(" ")
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", text).strip(" .")  # no hidden (".x") names either
    stem = stem[:MAX_STEM].rstrip(" .") or "berkas"
    return stem + EXTENSIONS[content_type]


# --- polyglots ---------------------------------------------------------------------------------------


def _refuse_polyglots(path: Path, content_type: str, head: bytes) -> None:
    if not head.startswith(MAGIC[content_type]):
        raise _file_problem(
            _("The file does not start as a %(type)s file should.", type=_type_word(content_type)), status=415
        )
    if _HTML_HEAD.search(head[:1024]):
        raise _file_problem(_("The file is also a web page (HTML): it is refused."), status=415)
    if zipfile.is_zipfile(path):
        raise _file_problem(_("The file is also a ZIP archive: it is refused."), status=415)
    if content_type == "application/pdf":
        with path.open("rb") as f:
            if _HTML_ANYWHERE.search(f.read()):
                raise _file_problem(_("The PDF also contains a web page (HTML): it is refused."), status=415)


def _type_word(content_type: str) -> str:
    return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[content_type]


# --- PDF ---------------------------------------------------------------------------------------------


def pdf_active_content(path: Path) -> list[str]:
    """What in the PDF can act by itself (translated reasons); raises ``ValidationProblem`` if unreadable."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise _file_problem(_("The PDF is encrypted, so it cannot be checked. Send it without a password."))
        stack: list[Any] = [reader.trailer]
        seen: set[tuple[int, int]] = set()
        found: list[str] = []
        visited = 0
        while stack:
            item = stack.pop()
            if isinstance(item, IndirectObject):
                ident = (item.idnum, item.generation)
                if ident in seen:
                    continue
                seen.add(ident)
                item = item.get_object()
            visited += 1
            if visited > MAX_PDF_OBJECTS:
                raise _file_problem(_("The PDF is too complex to be checked."))
            if isinstance(item, DictionaryObject):
                for key, value in item.items():
                    if key in _PDF_KEYS:
                        found.append(_PDF_KEYS[key])
                    if key == "/S" and isinstance(value, NameObject) and value in _PDF_ACTIONS:
                        found.append(_PDF_ACTIONS[value])
                    if isinstance(value, DictionaryObject | ArrayObject | IndirectObject):
                        stack.append(value)
            elif isinstance(item, ArrayObject):
                stack.extend(v for v in item if isinstance(v, DictionaryObject | ArrayObject | IndirectObject))
        # A page tree that cannot be read is not a PDF anyone can open.
        if len(reader.pages) < 1:
            raise _file_problem(_("The PDF has no pages."))
    except (ValidationProblem, UnsupportedMediaType):
        raise
    except Exception:  # pypdf raises many kinds on broken files; all mean the same to the uploader
        raise _file_problem(_("The PDF cannot be read; it may be damaged.")) from None
    return list(dict.fromkeys(gettext(reason) for reason in found))


# --- images ------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (_number(v) for v in value)
    except (TypeError, ValueError):
        return None
    if d is None or m is None or s is None:
        return None
    degrees = d + m / 60 + s / 3600
    ref = ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref or "")
    return round(-degrees if ref.strip().upper() == negative else degrees, 7)


def _exif_time(value: Any) -> str | None:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")
    match = re.fullmatch(r"([0-9]{4}):([0-9]{2}):([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})", text.strip("\x00 "))
    return "{}-{}-{}T{}:{}:{}".format(*match.groups()) if match else None


def photo_metadata(exif: Any) -> dict[str, Any] | None:
    """The GPS position and the time taken, from a Pillow ``Image.Exif``; None when neither is there."""
    out: dict[str, Any] = {}
    try:
        gps = exif.get_ifd(0x8825)
        latitude = _degrees(gps.get(2), gps.get(1), "S") if 2 in gps else None
        longitude = _degrees(gps.get(4), gps.get(3), "W") if 4 in gps else None
        if latitude is not None and longitude is not None and abs(latitude) <= 90 and abs(longitude) <= 180:
            position: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
            altitude = _number(gps.get(6)) if 6 in gps else None
            if altitude is not None:
                position["altitude"] = -altitude if gps.get(5) in (1, b"\x01") else altitude
            out["gps"] = position
        taken = _exif_time(exif.get_ifd(0x8769).get(0x9003)) or _exif_time(exif.get(0x0132))
        if taken:
            out["taken_at"] = taken
    except Exception:  # a broken EXIF block never stops an upload; the pixels are what count
        return out or None
    return out or None


def reencode_image(path: Path, content_type: str) -> tuple[bytes, dict[str, Any] | None]:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            if image.format not in ("JPEG", "PNG") or Image.MIME.get(image.format) != content_type:
                raise _file_problem(_("The image is not the type its content starts with."), status=415)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _file_problem(
                    _(
                        "The image has too many pixels (%(width)d × %(height)d); at most %(max)d million.",
                        width=width,
                        height=height,
                        max=MAX_PIXELS // 1_000_000,
                    )
                )
            metadata = photo_metadata(image.getexif())
            image.load()
            icc = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)  # the orientation the camera meant, as pixels
            out = io.BytesIO()
            if content_type == "image/jpeg":
                if upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                upright.save(out, format="JPEG", quality=90, icc_profile=icc)
            else:
                if upright.mode == "P" and "transparency" in upright.info:
                    upright = upright.convert("RGBA")
                elif upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                    upright = upright.convert("RGBA")
                upright.save(out, format="PNG", icc_profile=icc)
    except (ValidationProblem, UnsupportedMediaType):
        raise
    except Exception:  # Pillow raises many kinds (and DecompressionBombError) on hostile files
        raise _file_problem(_("The image cannot be read; it may be damaged.")) from None
    return out.getvalue(), metadata


# --- the one entry point -----------------------------------------------------------------------------


def check(path: Path, content_type: str, head: bytes) -> Checked:
    """Inspect an uploaded file (already sniffed as ``content_type``); blocking, run it in a thread.

    Returns what to store; for images a new temporary file beside ``path`` (the caller removes ``path``).
    """
    _refuse_polyglots(path, content_type, head)
    if content_type == "application/pdf":
        reasons = pdf_active_content(path)
        if reasons:
            raise _file_problem(
                _(
                    "The PDF contains %(what)s, which could run when it is opened. "
                    "Print it to a new PDF or scan it, and upload that.",
                    what=", ".join(reasons),
                )
            )
        digest, size = _digest(path)
        return Checked(content_type, path, size, digest, None)
    data, metadata = reencode_image(path, content_type)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".image-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return Checked(content_type, Path(name), len(data), hashlib.sha256(data).hexdigest(), metadata)


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
