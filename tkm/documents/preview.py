"""One letter of every kind, from the demo, as PNG pages: ``make letters-preview``.

Loads the demo into a new temporary TKM_DATA_DIR (SQLite, development: the letters carry development
signatures), renders and signs the first document of each kind in ``KINDS`` exactly as the worker does, checks
its signature, and writes its pages with ``pdftoppm`` at a modest resolution to ``docs/letters/``, with an index
(``docs/letters/README.md``). A kind the demo issues no letter of is listed as missing, never skipped silently;
the programme summary and the funds trail (made on request, not by a workflow) are ordered once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tkm import ROOT

OUTPUT = ROOT / "docs" / "letters"
DPI = 50


@dataclass
class Rendered:
    kind: str
    document_id: int
    number: str
    #: The issuing office's code and name (whose certificate signed it).
    office: str
    office_name: str
    pdf: bytes
    signature: dict[str, object]
    pages: list[Path] = field(default_factory=list)


def use_temporary_installation() -> Path:
    """A fresh TKM_DATA_DIR (SQLite, development) as this process's settings."""
    from tkm.core import db
    from tkm.core.settings import load_settings, reset_settings

    data_dir = Path(tempfile.mkdtemp(prefix="tkm-letters-"))
    for key in [k for k in os.environ if k.startswith("TKM_") and not k.startswith("TKM_TEST_")]:
        del os.environ[key]
    os.environ.update({"TKM_DATA_DIR": str(data_dir), "TKM_ENV": "development"})
    settings = load_settings()
    reset_settings(settings)
    db.configure(settings)
    return data_dir


def load_demo_letters() -> None:
    """Migrate and load the demo (its letters are issued, not yet rendered)."""
    from tkm.cli import migrate_quietly
    from tkm.demo.load import load_demo
    from tkm.demo.logins import ensure_demo_logins

    migrate_quietly()
    ensure_demo_logins()
    load_demo()


async def _order_programme_summary() -> None:
    from tkm.auth.roles import CurrentUser
    from tkm.demo.load import PEMULA
    from tkm.documents import services
    from tkm.documents.schemas import ProgrammeReportIn
    from tkm.documents.tables import Document

    if await Document.exists().where(Document.kind == "programme_summary"):
        return
    auditor = CurrentUser(0, "auditor@tkm.local", "Auditor", "auditor", ())
    await services.request_programme_report(auditor, ProgrammeReportIn(programme=PEMULA, region=""))


async def _order_funds_trail() -> None:
    """The funds trail of the first application paid something (made on request, as ``?format=pdf`` does)."""
    from tkm.core import db
    from tkm.documents import services
    from tkm.documents.tables import Document
    from tkm.ledger import services as ledger

    if await Document.exists().where(Document.kind == "funds_trail"):
        return
    paid = await (
        Document.select(Document.application).where(Document.kind == "handover_record").order_by(Document.id).first()
    )
    if paid is None:
        return
    application_id = int(paid["application"])
    bound = await ledger.last_seq()
    body = {
        "application_id": application_id,
        "entries": [line async for line in ledger.trail(application_id, up_to_seq=bound)],
        "totals": await ledger.totals(application_id, up_to_seq=bound),
    }
    async with db.transaction():
        await services.issue_funds_trail(application_id, body)


async def first_of_each_kind() -> tuple[dict[str, int], list[str]]:
    """The first valid (not void) document of every kind in ``KINDS``; and the kinds that have none."""
    from tkm.documents.kinds import KINDS
    from tkm.documents.tables import Document

    await _order_programme_summary()
    await _order_funds_trail()
    rows = await Document.select(Document.id, Document.kind, Document.voided_at).order_by(Document.id)
    found: dict[str, int] = {}
    for row in rows:
        if row["voided_at"] is None:
            found.setdefault(row["kind"], int(row["id"]))
    return {k: found[k] for k in KINDS if k in found}, [k for k in KINDS if k not in found]


async def render_signed(document_id: int) -> Rendered:
    """Render and sign as the worker does, then verify the stored file (fingerprint and signature)."""
    from tkm.core.settings import get_settings
    from tkm.documents import services
    from tkm.documents.tables import Document

    await services.render(document_id)
    row = (
        await Document.select(
            Document.kind, Document.number, Document.file_path, Document.verification_code, Document.office
        )
        .where(Document.id == document_id)
        .first()
    )
    pdf = (get_settings().data_dir / row["file_path"]).read_bytes()
    checked = await services.verify_document(row["verification_code"])
    if not checked["matches"]:
        raise RuntimeError(f"{row['kind']} {row['number']}: the stored file does not match its fingerprint")
    return Rendered(
        row["kind"], document_id, row["number"], row["office"], checked["office"], pdf, checked["signature"] or {}
    )


async def render_every_kind() -> tuple[list[Rendered], list[str]]:
    from tkm.core import db

    await db.open_pool()
    try:
        ids, missing = await first_of_each_kind()
        return [await render_signed(document_id) for document_id in ids.values()], missing
    finally:
        await db.close_pool()


def write_pages(letter: Rendered, output: Path, dpi: int = DPI) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("tkm: pdftoppm is missing (Debian/Ubuntu: sudo apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / f"{letter.kind}.pdf"
        pdf.write_bytes(letter.pdf)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(Path(tmp) / letter.kind)], check=True)
        pages = sorted(Path(tmp).glob(f"{letter.kind}-*.png"))
        placed = []
        for number, page in enumerate(pages, start=1):
            target = output / f"{letter.kind}-{number}.png"
            shutil.move(page, target)
            placed.append(target)
    letter.pages = placed
    return placed


def write_index(letters: list[Rendered], missing: list[str], output: Path) -> Path:
    from tkm.documents.kinds import KINDS

    lines = [
        "# Letters, one of every kind",
        "",
        "Made by `make letters-preview` from the demo data set (development signatures). Each letter was signed",
        "and its signature checked when these pages were made.",
        "",
    ]
    for letter in letters:
        status = "signed, valid" if letter.signature.get("valid") else "SIGNATURE NOT VALID"
        pages = " ".join(f"[page {i}]({p.name})" for i, p in enumerate(letter.pages, start=1))
        lines.append(f"- **{KINDS[letter.kind].title}** (`{letter.kind}`), {letter.number}: {status}. {pages}")
    if missing:
        lines += ["", "Kinds the demo issues no letter of (missing):", ""]
        lines += [f"- {KINDS[kind].title} (`{kind}`)" for kind in missing]
    index = output / "README.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--dpi", type=int, default=DPI)
    args = parser.parse_args(argv)
    data_dir = use_temporary_installation()
    try:
        load_demo_letters()
        letters, missing = asyncio.run(render_every_kind())
        args.output.mkdir(parents=True, exist_ok=True)
        for old in args.output.glob("*.png"):
            old.unlink()
        for letter in letters:
            write_pages(letter, args.output, args.dpi)
            print(f"{letter.kind:<22} {len(letter.pages)} page(s)  signature valid: {letter.signature.get('valid')}")
        write_index(letters, missing, args.output)
        for kind in missing:
            print(f"{kind:<22} MISSING: the demo issues no letter of this kind", file=sys.stderr)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    invalid = [letter.kind for letter in letters if not letter.signature.get("valid")]
    if invalid:
        print(f"tkm: signatures not valid: {', '.join(invalid)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
