"""Files to upload: the smallest bytes each kind is recognised by, and small but real documents.

``PDF_BYTES``, ``PNG_BYTES`` and ``JPEG_BYTES`` only carry the signature the upload check reads;
``pdf()``, ``jpeg()`` and ``png()`` are files a browser can show and an image library can decode.
"""

from __future__ import annotations

import io
from functools import cache

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@cache
def pdf(title: str = "Proposal usaha") -> bytes:
    """A one-page PDF made by WeasyPrint from an HTML string (no files or network are read)."""
    from weasyprint import HTML

    html = f"""<html lang="id"><head><title>{title}</title><style>
      @page {{ size: A5; margin: 1.5cm }} body {{ font-family: sans-serif }} h1 {{ color: #0b5d7a }}
    </style></head><body><h1>{title}</h1>
    <p>Kelompok Jahit Sehati, Kota Padang. Produksi masker kain dan sabun cair.</p>
    <table><tr><td>Modal kerja</td><td>Rp9.000.000</td></tr><tr><td>Upah</td><td>Rp4.000.000</td></tr></table>
    </body></html>"""
    return HTML(string=html).write_pdf()


def _image(fmt: str, label: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 300), (231, 240, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 468, 288), outline=(11, 93, 122), width=6)
    draw.rectangle((32, 80, 152, 240), fill=(180, 196, 210))
    for i, y in enumerate(range(90, 240, 30)):
        draw.rectangle((176, y, 440 - i * 30, y + 12), fill=(90, 106, 122))
    draw.text((32, 32), label, fill=(11, 70, 92))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@cache
def jpeg(label: str = "KARTU TANDA PENDUDUK") -> bytes:
    return _image("JPEG", label)


@cache
def png(label: str = "FOTO USAHA") -> bytes:
    return _image("PNG", label)
