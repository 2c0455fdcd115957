"""Office logos for the kop surat: a PNG, or an SVG checked with a real XML parser.

An SVG is refused (422 naming ``logo``) when it carries anything that runs or reaches out: a script, an event
handler attribute, a ``foreignObject``, a DTD or entity, or a reference (``href``, ``url(...)``, ``@import``) to
anything but a fragment of itself. What passes is written out again from the parsed tree, so comments and
processing instructions do not survive either.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import _

#: Small enough that the logo travels in every letter's snapshot as a data: URL.
MAX_LOGO_BYTES = 150 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
#: Elements that run code, embed other documents or pull in other files.
FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "link", "meta"}
_URL_RE = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)


def _refuse(message: str) -> ValidationProblem:
    return ValidationProblem([FieldError("logo", message)])


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _external(value: str) -> bool:
    """Does an attribute or style value point at anything but a fragment of the same file?"""
    if "@import" in value.lower():
        return True
    return any(target and not target.startswith("#") for target in _URL_RE.findall(value))


def sanitise_svg(content: bytes) -> bytes:
    try:
        root = fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ET.ParseError, ValueError) as exc:
        raise _refuse(_("The SVG file cannot be read as XML (%(error)s).", error=str(exc)[:120])) from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise _refuse(_("The file is not an SVG image."))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local(element.tag)
        if name in FORBIDDEN_ELEMENTS:
            raise _refuse(_("An SVG logo may not contain <%(name)s>.", name=name))
        if name == "style" and element.text and _external(element.text):
            raise _refuse(_("An SVG logo may not load other files."))
        for attribute, value in element.attrib.items():
            local = _local(attribute)
            if local.startswith("on"):
                raise _refuse(_("An SVG logo may not contain event handlers (%(name)s).", name=local))
            if local == "href" and not value.strip().startswith("#"):
                raise _refuse(_("An SVG logo may not refer to other files or addresses."))
            if _external(value):
                raise _refuse(_("An SVG logo may not load other files."))
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="utf-8")


def checked_logo(filename: str, content: bytes) -> tuple[str, str]:
    """``(logo_type, base64)`` of an uploaded logo, or a 422 naming ``logo``."""
    if not content:
        raise _refuse(_("The file is empty."))
    if len(content) > MAX_LOGO_BYTES:
        raise _refuse(_("A logo is at most %(n)d KB.", n=MAX_LOGO_BYTES // 1024))
    if content.startswith(PNG_MAGIC):
        return "png", base64.b64encode(content).decode("ascii")
    head = content[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")) or filename.lower().endswith(".svg"):
        return "svg", base64.b64encode(sanitise_svg(content)).decode("ascii")
    raise _refuse(_("Upload the logo as a PNG or SVG file."))
