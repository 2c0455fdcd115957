from __future__ import annotations

import msgspec

from tkm.core.schemas import Out
from tkm.documents.numbering import DEFAULT_PATTERN


class Signatory(msgspec.Struct, forbid_unknown_fields=True):
    """Who signs a kind of letter: the NIP is 18 digits (spaces allowed), the title written out in full."""

    name: str
    title: str
    nip: str = ""
    #: Pangkat and golongan, e.g. "Pembina Utama Muda (IV/c)".
    rank: str = ""


class Contact(msgspec.Struct, forbid_unknown_fields=True):
    phone: str = ""
    email: str = ""
    website: str = ""


class OfficeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    letterhead: list[str]
    address: str
    city: str
    signatory_name: str
    signatory_title: str
    region: str = ""
    is_default: bool = False
    #: {"phone","email","website"}; a plain text line is still taken (printed as it is).
    contact: Contact | str = ""
    signatory_nip: str = ""
    #: {letter kind or "default": signatory}; "default" signs the kinds not listed.
    signatories: dict[str, Signatory] = msgspec.field(default_factory=dict)
    #: The "Mengingat" of decrees, in order.
    legal_bases: list[str] = msgspec.field(default_factory=list)
    numbering_pattern: str = DEFAULT_PATTERN
    #: Another name of ``numbering_pattern`` (API.md: Letters (2)); when both are sent this one wins.
    number_pattern: str | msgspec.UnsetType = msgspec.UNSET
    kind_codes: dict[str, str] = msgspec.field(default_factory=dict)


class OfficePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    letterhead: list[str] | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    city: str | msgspec.UnsetType = msgspec.UNSET
    signatory_name: str | msgspec.UnsetType = msgspec.UNSET
    signatory_title: str | msgspec.UnsetType = msgspec.UNSET
    region: str | msgspec.UnsetType = msgspec.UNSET
    is_default: bool | msgspec.UnsetType = msgspec.UNSET
    contact: Contact | str | msgspec.UnsetType = msgspec.UNSET
    signatory_nip: str | msgspec.UnsetType = msgspec.UNSET
    signatories: dict[str, Signatory] | msgspec.UnsetType = msgspec.UNSET
    legal_bases: list[str] | msgspec.UnsetType = msgspec.UNSET
    numbering_pattern: str | msgspec.UnsetType = msgspec.UNSET
    number_pattern: str | msgspec.UnsetType = msgspec.UNSET
    kind_codes: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


class ProgrammeReportIn(msgspec.Struct, forbid_unknown_fields=True):
    programme: str
    #: Kemendagri code; empty for the whole programme (auditors, or staff covering every region).
    region: str = ""


# --- responses ----------------------------------------------------------------------------------------------------


class DocumentOut(Out):
    id: int
    kind: str
    title: str
    number: str
    #: pending | ready | failed (the rendering), or void (the letter lost its ground; its file stays)
    status: str
    #: Where the PDF stands, void or not: pending | ready | failed (a ready one can be downloaded)
    rendering: str
    #: SHA-256 of the signed file, once it is made
    sha256: str | None
    issued_at: str
    verification_code: str
    verify_url: str
    #: null for documents about a programme rather than one application
    application_id: int | None
    office: str
    size: int
    #: Why the document is void (e.g. the bank's reason for refusing the payment); null when it is not
    void_reason: str | None
    voided_at: str | None
    #: Id of the document issued in its place; null when it is not void or nothing replaces it yet
    replaced_by: int | None


class ReplacementOut(Out):
    """The document that replaces a void one, as the public may see it."""

    number: str
    verification_code: str
    verify_url: str


class SignatureOut(Out):
    #: Intact, made with the issuing office's certificate, and covering the whole file.
    valid: bool
    #: Who signed (the certificate's name), if the file carries a signature.
    signer: str | None
    #: When, as the signature says (ISO 8601).
    signed_at: str | None
    #: Made with a TKM development certificate: not an official signature.
    development: bool = False


class VerificationOut(Out):
    verification_code: str
    kind: str
    kind_label: str
    title: str
    number: str
    issued_at: str
    issued_on: str
    office: str
    #: pending | ready | failed, or void
    status: str
    sha256: str | None
    void_reason: str | None
    voided_at: str | None
    #: The day it became void, in Jakarta (YYYY-MM-DD)
    voided_on: str | None
    replaced_by: int | None
    replacement: ReplacementOut | None
    #: When a file or ?sha256= was given: the SHA-256 compared, and whether it is the document's.
    checked_sha256: str | None = None
    matches: bool | None = None
    #: The PAdES signature of the file checked (POST /api/v1/verify/{code}); null while the PDF is being made.
    signature: SignatureOut | None = None


class OfficeOut(Out):
    code: str
    name: str
    region: str
    region_name: str
    is_default: bool
    letterhead: list[str]
    address: str
    #: {"phone","email","website"}
    contact: dict[str, str]
    #: A contact line given as plain text (older clients); printed when no phone, e-mail or website is set.
    contact_note: str
    city: str
    signatory_name: str
    signatory_title: str
    signatory_nip: str
    #: {letter kind or "default": {"name", "nip", "rank", "title"}}: who signs that kind
    signatories: dict[str, dict[str, str]]
    #: The "Mengingat" list of decrees
    legal_bases: list[str]
    numbering_pattern: str
    #: The same as numbering_pattern
    number_pattern: str
    #: png | svg, or "" when the office has no logo (``PUT /api/v1/offices/{code}/logo``)
    logo: str
    #: Where the logo is served, or null
    logo_url: str | None
    #: {letter kind: code used in its number}
    kind_codes: dict[str, str]
    version: int


class CertificateOut(Out):
    #: The certificate's name (common name), its issuer, serial (hex) and validity (ISO 8601).
    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    #: SHA-256 fingerprint of the certificate (hex).
    sha256: str
    #: A self-signed development certificate made by TKM (letters say so).
    development: bool
    #: The office's own certificate (else the installation's TKM_SIGNING_P12 or the development one).
    own: bool


class OfficeCertificateOut(Out):
    office: str
    #: null when the office has nothing to sign with yet.
    certificate: CertificateOut | None
