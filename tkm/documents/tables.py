from enum import StrEnum

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.applications.tables import Application


class Rendering(StrEnum):
    """Where a document's rendering stands (its ``status`` column)."""

    pending = "pending"
    ready = "ready"
    failed = "failed"


#: The status a voided document reports instead of its rendering's (``voided_at`` is set). Kept apart from
#: the ``status`` column so that a letter voided before its PDF was made is still rendered and downloadable.
VOID = "void"


class Office(Table, tablename="offices"):
    """An issuing office (a Disnaker): letterhead, signatory and numbering are settings, not code."""

    code = Varchar(length=20, unique=True)
    name = Varchar(length=200)
    #: Kemendagri code of the region it covers ("13" covers "13.*"); the most specific office wins.
    region = Varchar(length=20, default="", index=True)
    #: Used for applications that no other office covers; exactly one office is the default.
    is_default = Boolean(default=False)
    #: Lines of the kop surat, top to bottom (e.g. "PEMERINTAH KOTA PADANG", "DINAS TENAGA KERJA").
    letterhead = JSON(default="[]")
    address = Text(default="")
    #: A contact line as plain text (older clients); ``contact_details`` holds phone, e-mail and website.
    contact = Varchar(length=300, default="")
    #: {"phone", "email", "website"}: printed under the address in the kop surat.
    contact_details = JSON(default="{}")
    #: The "Mengingat" of the office's decrees: the laws and rules the letters rest on, in order.
    legal_bases = JSON(default="[]")
    #: png | svg ("" for none); ``logo`` is the file in base64 (an SVG sanitised on upload).
    logo_type = Varchar(length=10, default="")
    logo = Text(default="")
    #: Where letters are signed ("Padang, 24 Maret 2020").
    city = Varchar(length=100, default="")
    signatory_name = Varchar(length=200, default="")
    signatory_title = Varchar(length=200, default="")
    signatory_nip = Varchar(length=30, default="")
    #: {kind or "default": {"name", "nip", "rank", "title"}}: who signs each kind (e.g. the PPK signs SPM).
    signatories = JSON(default="{}")
    #: e.g. "{seq:03d}/{kind_code}/DISNAKER-{office}/{month_roman}/{year}"
    numbering_pattern = Varchar(length=200)
    #: {kind: code} overriding the default codes (SK, SPM, BAST, ...).
    kind_codes = JSON(default="{}")
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DocumentCounter(Table, tablename="document_counters"):
    """The register: the last number issued per office, letter kind and year. Locked while a number is taken."""

    office = Varchar(length=20)
    kind = Varchar(length=40)
    year = Integer()
    last_seq = BigInt(default=0)
    # (office, kind, year) is unique: a raw index in the migration (Piccolo's Unique() breaks on SQLite).


class Document(Table, tablename="documents"):
    """One issued letter or report. The number and the context are fixed at issue time; the PDF follows."""

    application = ForeignKey(Application, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=40, index=True)
    office = Varchar(length=20)
    #: Region the document is about (the application's, or the report's): access checks use it.
    region = Varchar(length=20, default="", index=True)
    year = Integer()
    seq = BigInt()
    number = Varchar(length=200, unique=True)
    #: The rendering job, not a workflow: pending | ready | failed (``Rendering``).
    status = Varchar(length=10, default="pending", index=True)
    #: Crockford base32, 12 characters (60 random bits); printed as XXXX-XXXX-XXXX.
    verification_code = Varchar(length=20, unique=True)
    issued_at = Timestamptz()
    issued_by = Integer(null=True, default=None)
    #: What the document is about besides the application, e.g. "event:12", "tranche:5".
    subject_key = Varchar(length=200, default="")
    #: Makes issuing idempotent: a second issue with the same key returns the first document.
    dedupe_key = Varchar(length=300, null=True, default=None, unique=True)
    #: Everything the letter shows, frozen at issue time: a re-render gives the same letter.
    context = JSON(default="{}")
    sha256 = Varchar(length=64, default="")
    size = BigInt(default=0)
    #: Relative to TKM_DATA_DIR.
    file_path = Varchar(length=300, default="")
    #: Render attempts started (a crashed render leaves attempts > 0 with status pending).
    attempts = Integer(default=0)
    error = Text(default="")
    render_started_at = Timestamptz(null=True, default=None)
    rendered_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    #: The tranche a payment order or handover record is about (null for other letters).
    tranche = Integer(null=True, default=None, index=True)
    #: Set when the letter lost its ground (e.g. the bank refused the payment it orders): it stays in the
    #: register with its number and file, and reports itself void.
    voided_at = Timestamptz(null=True, default=None)
    void_reason = Text(default="")
    #: The document issued in its place (e.g. the payment order of the next authorization of the tranche).
    replaced_by = Integer(null=True, default=None)
