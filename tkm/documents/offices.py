"""Issuing offices: letterhead, signatories, numbering. Which office issues a letter for a region."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import msgspec

from tkm import regions
from tkm.auth.roles import CurrentUser, region_covers
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, NotFound, PreconditionFailed, ValidationProblem
from tkm.core.i18n import _
from tkm.documents.kinds import KINDS
from tkm.documents.numbering import check_pattern
from tkm.documents.schemas import OfficeIn, OfficePatch
from tkm.documents.tables import Office

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}\Z")
KIND_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]{0,19}\Z")
NIP_RE = re.compile(r"^[0-9 ]{0,30}\Z")
#: A civil servant's NIP: 18 digits (birth date, appointment month, sex, serial), often written with spaces.
NIP_DIGITS = 18
PHONE_RE = re.compile(r"^[0-9+() ./-]{5,40}\Z")
EMAIL_RE = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\Z")
WEBSITE_RE = re.compile(r"^(https?://)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(:[0-9]{1,5})?(/[^\s]*)?\Z")
MAX_LETTERHEAD_LINES = 6
MAX_LEGAL_BASES = 20
#: The key of ``signatories`` that signs every kind not listed by name.
DEFAULT_SIGNATORY = "default"
CONTACT_FIELDS = ("phone", "email", "website")
JSON_FIELDS = ("letterhead", "signatories", "kind_codes", "contact_details", "legal_bases")


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def kind_codes(row: dict[str, Any]) -> dict[str, str]:
    """Every kind's register code for this office: the defaults with the office's overrides."""
    return {name: kind.code for name, kind in KINDS.items()} | (_loads(row["kind_codes"]) or {})


def contact_of(row: dict[str, Any]) -> dict[str, str]:
    details = _loads(row.get("contact_details")) or {}
    return {k: str(details.get(k) or "") for k in CONTACT_FIELDS}


def logo_data_url(row: dict[str, Any]) -> str:
    """The office's logo as a data: URL (what a letter's snapshot keeps), or "" when it has none."""
    kind = row.get("logo_type") or ""
    if not kind or not row.get("logo"):
        return ""
    mime = "image/svg+xml" if kind == "svg" else "image/png"
    return f"data:{mime};base64,{row['logo']}"


def office_out(row: dict[str, Any]) -> dict[str, Any]:
    logo = row.get("logo_type") or ""
    return {
        "code": row["code"],
        "name": row["name"],
        "region": row["region"],
        "region_name": regions.name(row["region"]) if row["region"] else "",
        "is_default": bool(row["is_default"]),
        "letterhead": _loads(row["letterhead"]) or [],
        "address": row["address"],
        "contact": contact_of(row),
        "contact_note": row["contact"],
        "city": row["city"],
        "signatory_name": row["signatory_name"],
        "signatory_title": row["signatory_title"],
        "signatory_nip": row["signatory_nip"],
        "signatories": {
            k: {"name": v.get("name", ""), "nip": v.get("nip", ""), "rank": v.get("rank", ""), "title": v["title"]}
            for k, v in (_loads(row["signatories"]) or {}).items()
        },
        "legal_bases": _loads(row.get("legal_bases")) or [],
        "numbering_pattern": row["numbering_pattern"],
        "number_pattern": row["numbering_pattern"],
        "logo": logo,
        "logo_url": f"/api/v1/offices/{row['code']}/logo" if logo else None,
        "kind_codes": kind_codes(row),
        "version": row["version"],
    }


def nip_digits(nip: str) -> str:
    return nip.replace(" ", "")


def _complete(person: dict[str, Any]) -> bool:
    nip = nip_digits(str(person.get("nip") or ""))
    return bool(str(person.get("name") or "").strip() and str(person.get("title") or "").strip()) and (
        len(nip) == NIP_DIGITS and nip.isdigit()
    )


def signatory(office: dict[str, Any], kind: str) -> dict[str, str]:
    """Who signs ``kind`` for this office: ``signatories[kind]``, else ``signatories["default"]``, else the
    office's own signatory fields. A letter is never printed with a blank signatory: when nobody with a name,
    an 18-digit NIP and a title is set, the issue is refused (409) naming the setting to fill in."""
    listed = office.get("signatories") or {}
    legacy = {
        "name": office.get("signatory_name", ""),
        "title": office.get("signatory_title", ""),
        "nip": office.get("signatory_nip", ""),
        "rank": "",
    }
    for person in (listed.get(kind), listed.get(DEFAULT_SIGNATORY), legacy):
        if person and _complete(person):
            return {
                "name": str(person["name"]).strip(),
                "title": str(person["title"]).strip(),
                "nip": nip_digits(str(person["nip"])),
                "rank": str(person.get("rank") or "").strip(),
            }
    setting = f"signatories.{kind}"
    raise Conflict(
        _(
            "%(setting)s of office %(office)s is not set: an administrator must name who signs this letter "
            "(name, 18-digit NIP, rank and title) before it can be issued.",
            setting=setting,
            office=office["code"],
        ),
        errors=[FieldError(setting, _("Who signs this letter is not set."))],
        extra={"office": office["code"], "setting": setting},
    )


def nip_format(nip: str) -> str:
    """``19700101 199503 1 001``: how a NIP is printed."""
    digits = nip_digits(nip)
    if len(digits) != NIP_DIGITS:
        return nip
    return f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"


def _check_nip(errors: list[FieldError], field: str, nip: str, required: bool) -> None:
    digits = nip_digits(nip)
    if not digits and not required:
        return
    if len(digits) != NIP_DIGITS or not digits.isdigit():
        errors.append(FieldError(field, _("A NIP is exactly 18 digits.")))


def _check_contact(errors: list[FieldError], contact: dict[str, str]) -> None:
    checks = {"phone": PHONE_RE, "email": EMAIL_RE, "website": WEBSITE_RE}
    messages = {
        "phone": _("Write a telephone number with digits, e.g. (0751) 7055221."),
        "email": _("Write an e-mail address, e.g. disnakertrans@sumbarprov.go.id."),
        "website": _("Write a website address, e.g. disnakertrans.sumbarprov.go.id."),
    }
    for key in CONTACT_FIELDS:
        value = contact.get(key, "")
        if value and (len(value) > 200 or not checks[key].match(value)):
            errors.append(FieldError(f"contact.{key}", messages[key]))


def _check(values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []

    def text(field: str, max_length: int, required: bool = True) -> None:
        value = values[field]
        if required and not value.strip():
            errors.append(FieldError(field, _("This field is required.")))
        elif len(value) > max_length:
            errors.append(FieldError(field, _("At most %(n)d characters.", n=max_length)))

    if not CODE_RE.match(values["code"]):
        errors.append(FieldError("code", _("Use 2 to 20 capital letters, digits or dashes, e.g. 1371 or PADANG.")))
    text("name", 200)
    text("address", 500, required=False)
    text("contact", 300, required=False)
    text("city", 100)
    text("signatory_name", 200, required=False)
    text("signatory_title", 200)
    if not NIP_RE.match(values["signatory_nip"]):
        errors.append(FieldError("signatory_nip", _("A NIP is made of digits.")))
    else:
        _check_nip(errors, "signatory_nip", values["signatory_nip"], required=False)
    _check_contact(errors, values.get("contact_details") or {})
    bases = values.get("legal_bases") or []
    if len(bases) > MAX_LEGAL_BASES:
        errors.append(FieldError("legal_bases", _("Give at most %(n)d legal bases.", n=MAX_LEGAL_BASES)))
    for i, basis in enumerate(bases):
        if not basis.strip() or len(basis) > 600:
            errors.append(FieldError(f"legal_bases[{i}]", _("Each legal basis is 1 to 600 characters.")))
    lines = values["letterhead"]
    if not 1 <= len(lines) <= MAX_LETTERHEAD_LINES:
        errors.append(FieldError("letterhead", _("Give 1 to %(n)d lines.", n=MAX_LETTERHEAD_LINES)))
    for i, line in enumerate(lines):
        if not line.strip() or len(line) > 200:
            errors.append(FieldError(f"letterhead[{i}]", _("Each line is 1 to 200 characters.")))
    region = values["region"]
    if region and not regions.exists(region):
        errors.append(FieldError("region", _("Unknown region code %(code)s.", code=region)))
    elif not region and not values["is_default"]:
        errors.append(
            FieldError("region", _("Name the region this office covers (only the default office may have none)."))
        )
    problem = check_pattern(values["numbering_pattern"])
    if problem:
        errors.append(FieldError("numbering_pattern", problem))
    codes = values["kind_codes"]
    for kind, code in codes.items():
        if kind not in KINDS:
            errors.append(FieldError(f"kind_codes.{kind}", _("Unknown letter kind.")))
        elif not KIND_CODE_RE.match(code):
            errors.append(FieldError(f"kind_codes.{kind}", _("Use capital letters, digits, dots or dashes.")))
    effective = {name: kind.code for name, kind in KINDS.items()} | codes
    if len(set(effective.values())) != len(effective):
        errors.append(FieldError("kind_codes", _("Each letter kind needs its own code.")))
    for kind, person in values["signatories"].items():
        field = f"signatories.{kind}"
        if kind not in KINDS and kind != DEFAULT_SIGNATORY:
            errors.append(FieldError(field, _("Unknown letter kind.")))
            continue
        if not person["name"].strip() or len(person["name"]) > 200:
            errors.append(FieldError(f"{field}.name", _("Give the signatory's name (at most 200 characters).")))
        if not person["title"].strip() or len(person["title"]) > 300:
            errors.append(
                FieldError(
                    f"{field}.title",
                    _("Give the signatory's full title, e.g. Pejabat Pembuat Komitmen (at most 300 characters)."),
                )
            )
        if len(person.get("rank", "")) > 100:
            errors.append(FieldError(f"{field}.rank", _("At most %(n)d characters.", n=100)))
        _check_nip(errors, f"{field}.nip", person.get("nip", ""), required=True)
    return errors


def _named_as_sent(errors: list[FieldError], data: OfficeIn | OfficePatch) -> list[FieldError]:
    """A pattern sent as ``number_pattern`` is refused under that name."""
    if data.number_pattern is msgspec.UNSET:
        return errors
    return [FieldError("number_pattern", e.message) if e.field == "numbering_pattern" else e for e in errors]


def _values_from(data: OfficeIn | OfficePatch, base: dict[str, Any] | None = None) -> dict[str, Any]:
    values = dict(base or {})
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is msgspec.UNSET:
            continue
        if field == "signatories":
            value = {
                k: {key: str(v).strip() for key, v in msgspec.structs.asdict(person).items()}
                for k, person in value.items()
            }
            for person in value.values():
                if nip_digits(person["nip"]).isdigit():
                    person["nip"] = nip_digits(person["nip"])  # kept as 18 digits, printed in groups
        elif field == "contact":
            # A plain line (older clients) stays the contact note; the object sets phone, e-mail and website.
            if isinstance(value, str):
                values["contact"] = value.strip()
            else:
                values["contact_details"] = {k: getattr(value, k).strip() for k in CONTACT_FIELDS}
            continue
        elif field == "legal_bases":
            value = [" ".join(basis.split()) for basis in value]
        elif field == "number_pattern":
            values["numbering_pattern"] = value.strip()
            continue
        elif isinstance(value, str):
            value = value.strip()
        elif field == "letterhead":
            value = [line.strip() for line in value]
        values[field] = value
    if "code" in values:
        values["code"] = values["code"].upper()
    values.setdefault("contact", "")
    values.setdefault("contact_details", {})
    values.setdefault("legal_bases", [])
    return values


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for field in JSON_FIELDS:
        out[field] = json.dumps(out[field], ensure_ascii=False)
    return out


async def _region_taken(region: str, except_code: str | None = None) -> bool:
    if not region:
        return False
    query = Office.exists().where(Office.region == region)
    if except_code:
        query = query.where(Office.code != except_code)
    return await query


async def list_offices() -> list[dict[str, Any]]:
    rows = await Office.select().order_by(Office.region).order_by(Office.code)
    return [office_out(r) for r in rows]


async def get_office(code: str) -> dict[str, Any]:
    row = await Office.select().where(Office.code == code.upper()).first()
    if row is None:
        raise NotFound(_("Office %(code)s not found.", code=code))
    return office_out(row)


async def create_office(actor: CurrentUser, data: OfficeIn) -> dict[str, Any]:
    values = _values_from(data)
    errors = _named_as_sent(_check(values), data)
    if errors:
        raise ValidationProblem(errors)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        if await Office.exists().where(Office.code == values["code"]):
            raise Conflict(
                _("Office %(code)s already exists.", code=values["code"]),
                errors=[FieldError("code", _("This code is already used."))],
            )
        if await _region_taken(values["region"]):
            raise Conflict(
                _("Another office already covers region %(code)s.", code=values["region"]),
                errors=[FieldError("region", _("Another office already covers this region."))],
            )
        if values["is_default"]:
            await Office.update({Office.is_default: False, Office.updated_at: now}).where(Office.is_default.eq(True))
        row = Office(**_columns(values), version=1, created_at=now, updated_at=now)
        await row.save()
        await audit.record(
            "office.created",
            actor_id=actor.id,
            actor=actor.email,
            object_type="office",
            object_id=values["code"],
            details={"region": values["region"], "is_default": values["is_default"]},
        )
    return office_out(row.to_dict())


async def update_office(
    actor: CurrentUser, code: str, data: OfficePatch, if_match: int | None = None
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        current = await db.for_update(Office.select().where(Office.code == code.upper())).first()
        if current is None:
            raise NotFound(_("Office %(code)s not found.", code=code))
        if if_match is not None and if_match != current["version"]:
            raise PreconditionFailed(
                _("The office changed since you read it (version %(now)d). Reload it.", now=current["version"]),
                extra={"current_version": current["version"]},
            )
        base = {k: _loads(v) if k in JSON_FIELDS else v for k, v in current.items()}
        skip = ("id", "version", "created_at", "updated_at", "logo", "logo_type")
        base = {k: v for k, v in base.items() if k not in skip}
        values = _values_from(data, base)
        if current["is_default"] and not values["is_default"]:
            raise Conflict(
                _("Make another office the default first: one office must always be the default."),
                errors=[FieldError("is_default", _("One office must always be the default."))],
            )
        errors = _named_as_sent(_check(values), data)
        if errors:
            raise ValidationProblem(errors)
        if values["region"] != current["region"] and await _region_taken(values["region"], current["code"]):
            raise Conflict(
                _("Another office already covers region %(code)s.", code=values["region"]),
                errors=[FieldError("region", _("Another office already covers this region."))],
            )
        if values["is_default"] and not current["is_default"]:
            await Office.update({Office.is_default: False, Office.updated_at: now}).where(Office.is_default.eq(True))
        changes = _columns({k: v for k, v in values.items() if k != "code"})
        await Office.update(
            {
                **{getattr(Office, k): v for k, v in changes.items()},
                Office.version: current["version"] + 1,
                Office.updated_at: now,
            }
        ).where(Office.id == current["id"])
        await audit.record(
            "office.updated",
            actor_id=actor.id,
            actor=actor.email,
            object_type="office",
            object_id=current["code"],
            details={"fields": sorted(f for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET)},
        )
    return await get_office(current["code"])


async def office_for(region: str | None, code: str | None = None) -> dict[str, Any]:
    """The office named ``code``; else the one covering ``region`` most specifically; else the default."""
    if code:
        return await get_office(code)
    rows = await Office.select()
    covering = [r for r in rows if r["region"] and region and region_covers(r["region"], region)]
    if covering:
        return office_out(max(covering, key=lambda r: len(r["region"])))
    default = next((r for r in rows if r["is_default"]), None)
    if default is None:
        raise Conflict(_("No office issues letters: an administrator must set up a default office."))
    return office_out(default)


async def set_logo(actor: CurrentUser, code: str, filename: str, content: bytes) -> dict[str, Any]:
    """Store an office's logo (PNG, or an SVG that passes ``logos.sanitise_svg``); 422 naming ``logo``."""
    from tkm.documents import logos

    kind, encoded = logos.checked_logo(filename, content)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        current = await db.for_update(Office.select(Office.id, Office.version).where(Office.code == code.upper()))
        row = current[0] if current else None
        if row is None:
            raise NotFound(_("Office %(code)s not found.", code=code))
        await Office.update(
            {Office.logo_type: kind, Office.logo: encoded, Office.version: row["version"] + 1, Office.updated_at: now}
        ).where(Office.id == row["id"])
        await audit.record(
            "office.logo_changed",
            actor_id=actor.id,
            actor=actor.email,
            object_type="office",
            object_id=code.upper(),
            details={"type": kind, "size": len(content)},
        )
    return await get_office(code)


async def get_logo(code: str) -> tuple[str, bytes]:
    """``(media type, bytes)`` of an office's logo; 404 when it has none."""
    import base64

    row = await Office.select(Office.logo_type, Office.logo).where(Office.code == code.upper()).first()
    if row is None or not row["logo_type"]:
        raise NotFound(_("Office %(code)s has no logo.", code=code))
    mime = "image/svg+xml" if row["logo_type"] == "svg" else "image/png"
    return mime, base64.b64decode(row["logo"])


async def office_row(code: str) -> dict[str, Any]:
    """The office's row as stored (with its logo), for a letter's snapshot."""
    row = await Office.select().where(Office.code == code.upper()).first()
    if row is None:
        raise NotFound(_("Office %(code)s not found.", code=code))
    return row
