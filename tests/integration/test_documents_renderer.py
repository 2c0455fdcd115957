"""The locked URL fetcher: a letter template or stylesheet that asks for other files or the network gets nothing.

A local HTTP server records every request it receives; the same evil template
rendered by WeasyPrint with its own default fetcher shows what the lock prevents.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from weasyprint import CSS, HTML
from weasyprint.urls import path2url

from tests.support.letters import pdf_reader, pdf_text

ROOT = Path(__file__).resolve().parents[2]
PASSWD = Path("/etc/passwd")
SECRET_LINE = PASSWD.read_text().splitlines()[0] if PASSWD.exists() else "root:x:0:0"


@pytest.fixture
def http_server():
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"/* fetched */ body { color: red }" if self.path.endswith(".css") else b"HTTP-CONTENT-LEAKED"
            self.send_response(200)
            self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


EVIL_CSS = """@import url("{http}/import.css");
@import url("file:///etc/passwd");
@font-face {{ font-family: Evil; src: url("{http}/font.ttf"), url("file:///etc/passwd"); }}
body {{ background: url("{http}/background.png"); }}
.x::before {{ content: url("file:///etc/passwd"); }}
.y {{ background-image: url("../../../../../../../../etc/passwd"); }}
.z {{ list-style-image: url("passwd-link.svg"); }}
"""

EVIL_TEMPLATE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Surat uji</title>
<link rel="stylesheet" href="{http}/style.css">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="{http}/attachment.txt" title="remote">
</head><body>
<p class="x y">Isi surat untuk {{{{ name }}}}</p>
<ul class="z"><li>butir</li></ul>
<img src="file:///etc/passwd" alt="a">
<img src="file:///dev/urandom" alt="b">
<img src="{http}/image.png" alt="c">
<img src="../../../../../../../../etc/passwd" alt="d">
<img src="passwd-link.svg" alt="e">
<img src="data:image/svg+xml;base64,{big}" alt="f">
<object data="file:///etc/passwd"></object>
<embed src="{http}/embed.txt">
<iframe src="file:///etc/passwd"></iframe>
<svg width="20" height="20"><image href="{http}/svg-image.png" width="10" height="10"/></svg>
<img src="{{{{ static_url }}}}letters/logo.svg" alt="logo">
</body></html>
"""


@pytest.fixture
def evil_templates(tmp_path, http_server):
    url, _hits = http_server
    letters = tmp_path / "letters"
    letters.mkdir()
    big = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * 400_000 + b"</svg>").decode()
    (letters / "letter.css").write_text(EVIL_CSS.format(http=url))
    (letters / "evil.html").write_text(EVIL_TEMPLATE.format(http=url, big=big))
    os.symlink(PASSWD, letters / "passwd-link.svg")
    return tmp_path


def test_a_hostile_template_and_stylesheet_fetch_nothing(evil_templates, http_server):
    from tkm.documents.renderer import Renderer

    _url, hits = http_server
    renderer = Renderer(evil_templates, ROOT / "tkm" / "static")
    content = renderer.render("evil", {"name": "Kelompok Maju"})
    assert "Isi surat untuk Kelompok Maju" in pdf_text(content)
    assert hits == []
    assert SECRET_LINE.encode() not in content and SECRET_LINE not in pdf_text(content)
    assert pdf_reader(content).attachments == {}


def test_the_same_template_with_weasyprints_own_fetcher_would_leak(evil_templates, http_server):
    """The control: without the lock the server is hit and /etc/passwd is attached to the PDF."""
    _url, hits = http_server
    letters = evil_templates / "letters"
    html = (letters / "evil.html").read_text().replace("{{ name }}", "X").replace("{{ static_url }}", "")
    html = html.replace('<img src="file:///dev/urandom" alt="b">', "")  # unlocked, it would read forever
    content = HTML(string=html, base_url=path2url(str(letters))).write_pdf(
        stylesheets=[CSS(filename=str(letters / "letter.css"))], pdf_variant="pdf/a-3u"
    )
    assert hits, "the default fetcher should have reached the local server"
    attachments = pdf_reader(content).attachments
    assert any(SECRET_LINE.encode() in data for files in attachments.values() for data in files)


def test_the_fetcher_serves_only_the_apps_own_files(tmp_path):
    from tkm.documents.renderer import MAX_DATA_URL_LENGTH, LetterFetcher, RefusedURL

    letters, static = ROOT / "templates" / "letters", ROOT / "tkm" / "static"
    fetcher = LetterFetcher([letters, static])
    css = fetcher.fetch(path2url(str(letters / "letter.css")))
    assert css.content_type == "text/css" and css.read() == (letters / "letter.css").read_bytes()
    logo = fetcher.fetch(path2url(str(static / "letters" / "logo.svg")))
    assert logo.content_type == "image/svg+xml" and logo.read() == (static / "letters" / "logo.svg").read_bytes()
    data = fetcher.fetch("data:text/plain;charset=utf-8,Halo%20dunia")
    assert data.read() == b"Halo dunia" and data.content_type == "text/plain"

    outside = tmp_path / "outside.css"
    outside.write_text("body {}")
    escape = tmp_path / "escape"
    escape.mkdir()
    shutil.copytree(letters, escape / "letters")
    os.symlink(outside, escape / "letters" / "linked.css")
    linked = LetterFetcher([escape / "letters"])
    refused = [
        "file:///etc/passwd",
        "file:///dev/urandom",
        path2url(str(outside)),
        path2url(str(letters)) + "../../etc/passwd",
        "file://otherhost" + str(letters / "letter.css"),
        "http://127.0.0.1:1/x",
        "https://example.org/x.css",
        "ftp://example.org/x",
        "data:text/plain," + "a" * MAX_DATA_URL_LENGTH,
        "javascript:alert(1)",
        path2url(str(letters)),  # a directory
    ]
    for url in refused:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    with pytest.raises(RefusedURL):
        linked.fetch(path2url(str(escape / "letters" / "linked.css")))  # a symlink leading out
    assert linked.fetch(path2url(str(escape / "letters" / "letter.css"))).read().startswith(b"/*")


def test_template_text_is_escaped_and_letters_stay_indonesian(tmp_path):
    from tkm.core.i18n import reset_language, set_language
    from tkm.documents.renderer import Renderer

    (tmp_path / "letters").mkdir()
    shutil.copy(ROOT / "templates" / "letters" / "letter.css", tmp_path / "letters" / "letter.css")
    (tmp_path / "letters" / "t.html").write_text(
        '<html lang="id"><head><title>t</title></head><body><p>{{ name }}</p><p>{{ day|tanggal }}</p>'
        "<p>{{ amount|rupiah }} ({{ amount|terbilang }})</p></body></html>"
    )
    renderer = Renderer(tmp_path, ROOT / "tkm" / "static")
    token = set_language("en")  # a request in English must not change a letter's language
    try:
        html = renderer.html("t", {"name": "<b>Maju</b> & Co", "day": "2020-03-24", "amount": 21_001_000})
    finally:
        reset_language(token)
    assert "&lt;b&gt;Maju&lt;/b&gt; &amp; Co" in html and "<b>" not in html
    assert "24 Maret 2020" in html
    assert "Rp21.001.000 (dua puluh satu juta seribu rupiah)" in html
