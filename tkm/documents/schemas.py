from __future__ import annotations

import msgspec

from tkm.core.schemas import Out
from tkm.documents.numbering import DEFAULT_PATTERN


class Signatory(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    title: str
    nip: str = ""


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
    contact: str = ""
    signatory_nip: str = ""
    signatories: dict[str, Signatory] = msgspec.field(default_factory=dict)
    numbering_pattern: str = DEFAULT_PATTERN
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
    contact: str | msgspec.UnsetType = msgspec.UNSET
    signatory_nip: str | msgspec.UnsetType = msgspec.UNSET
    signatories: dict[str, Signatory] | msgspec.UnsetType = msgspec.UNSET
    numbering_pattern: str | msgspec.UnsetType = msgspec.UNSET
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
    contact: str
    city: str
    signatory_name: str
    signatory_title: str
    signatory_nip: str
    #: {letter kind: {"name", "title", "nip"}}: who signs that kind instead of the office's signatory
    signatories: dict[str, dict[str, str]]
    numbering_pattern: str
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
