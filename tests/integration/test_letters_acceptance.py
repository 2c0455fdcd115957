"""Over the demo's letters: every kind in KINDS renders, is signed by its office (checked with pyHanko's own
validator), and its text (pypdf) carries no raw code.

Uses what ``make letters-preview`` uses (``tkm.documents.preview``): the demo loaded into this module's database,
the first document of every kind rendered and signed as the worker does. A kind added to ``KINDS`` is tested here
without a change, and fails until the demo issues one.
"""

from __future__ import annotations

import asyncio
import io
import re

import pytest

from tests.support import letters as support
from tkm.documents.kinds import KINDS

pytestmark = pytest.mark.slow

#: What a person must never read on a letter: codes (``on_approval``, ``report_expense``), an unset value
#: printed as "(……)", region codes or register codes in brackets ("(13.06)", "(BLK-PADANG)").
RAW_CODES = (
    re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"),
    re.compile(r"\((?:\s*(?:…|\.{3,})\s*)+\)"),
    re.compile(r"\(\d{2}(?:\.\d{2,4})*\)"),
    re.compile(r"\([A-Z0-9]+(?:-[A-Z0-9]+)+\)"),
)



@pytest.fixture(scope="module")
def demo_letters(settings):
    from tkm.demo.load import load_demo
    from tkm.demo.logins import ensure_demo_logins
    from tkm.documents import preview

    ensure_demo_logins()
    load_demo()
    rendered, missing = asyncio.run(preview.render_every_kind())
    return {letter.kind: letter for letter in rendered}, missing


def letter_of(demo_letters, kind: str):
    by_kind, missing = demo_letters
    assert kind not in missing, f"the demo issues no {kind} letter: add one to tkm/demo so that it is checked"
    return by_kind[kind]


def raw_codes(text: str) -> list[str]:
    return sorted({m.group(0) for pattern in RAW_CODES for m in pattern.finditer(text)})


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_renders_and_validates_as_signed_by_its_office(settings, demo_letters, kind):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from tkm.documents import signing

    letter = letter_of(demo_letters, kind)
    assert letter.signature["valid"] is True and letter.signature["signer"] == letter.office_name
    roots = [signing._to_asn1(c) for c in signing.trusted_certificates(settings, letter.office)]
    reader = PdfFileReader(io.BytesIO(letter.pdf), strict=False)
    (sig,) = reader.embedded_signatures
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert sig.signer_cert.subject.native["common_name"] == letter.office_name
    assert len(support.pdf_reader(letter.pdf).pages) >= 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_raw_code_reaches_a_letter(demo_letters, kind):
    assert raw_codes(support.pdf_text(letter_of(demo_letters, kind).pdf)) == []


def test_the_demo_issues_every_kind(demo_letters):
    by_kind, missing = demo_letters
    assert set(by_kind) == set(KINDS) and not missing, missing


def test_the_raw_code_check_sees_codes():
    assert raw_codes("Syarat: on_approval (……) Kota Padang (13.71) BLK (BLK-PADANG)") == [
        "(13.71)",
        "(BLK-PADANG)",
        "(……)",
        "on_approval",
    ]
    assert raw_codes("Nomor 001/SK/DISNAKER-SUMBAR/XII/2026 (enam belas juta rupiah)") == []
