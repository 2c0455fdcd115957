"""Files to upload: the smallest real file of each kind, and small documents that look like real ones.

``PDF_BYTES`` is a one-page blank PDF (pypdf's smallest), ``PNG_BYTES`` and ``JPEG_BYTES`` 2 × 2 pixel
images: the upload check parses PDFs and decodes images, so signatures alone are refused.
``pdf()``, ``jpeg()`` and ``png()`` are files a browser can show and an image library can decode.
"""

from __future__ import annotations

import io
from functools import cache

PDF_BYTES = (
    b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\n/Producer (pypdf)\n>>\nendobj\n2 0 obj\n<<\n/Type /Pages\n"
    b"/Count 1\n/Kids [ 4 0 R ]\n>>\nendobj\n3 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n>>\nendobj\n4 0 obj\n"
    b"<<\n/Type /Page\n/Resources <<\n>>\n/MediaBox [ 0.0 0.0 200 200 ]\n/Parent 2 0 R\n>>\nendobj\nxref\n0 5\n"
    b"0000000000 65535 f \n0000000015 00000 n \n0000000054 00000 n \n0000000113 00000 n \n0000000162 00000 n \n"
    b"trailer\n<<\n/Size 5\n/Root 3 0 R\n/Info 1 0 R\n>>\nstartxref\n256\n%%EOF\n"
)


def _tiny(fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


PNG_BYTES = _tiny("PNG")
JPEG_BYTES = _tiny("JPEG")


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
