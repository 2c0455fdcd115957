from __future__ import annotations

import msgspec

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
