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
MAX_LETTERHEAD_LINES = 6


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def kind_codes(row: dict[str, Any]) -> dict[str, str]:
    """Every kind's register code for this office: the defaults with the office's overrides."""
    return {name: kind.code for name, kind in KINDS.items()} | (_loads(row["kind_codes"]) or {})


def office_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "region": row["region"],
        "region_name": regions.name(row["region"]) if row["region"] else "",
        "is_default": bool(row["is_default"]),
        "letterhead": _loads(row["letterhead"]) or [],
        "address": row["address"],
        "contact": row["contact"],
        "city": row["city"],
        "signatory_name": row["signatory_name"],
        "signatory_title": row["signatory_title"],
        "signatory_nip": row["signatory_nip"],
        "signatories": _loads(row["signatories"]) or {},
        "numbering_pattern": row["numbering_pattern"],
        "kind_codes": kind_codes(row),
        "version": row["version"],
    }


def signatory(office: dict[str, Any], kind: str) -> dict[str, str]:
    """Who signs ``kind`` for this office (an override per kind, else the office's signatory)."""
    override = (office.get("signatories") or {}).get(kind)
    if override:
        return {"name": override["name"], "title": override["title"], "nip": override.get("nip", "")}
    return {"name": office["signatory_name"], "title": office["signatory_title"], "nip": office["signatory_nip"]}


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
        if kind not in KINDS:
            errors.append(FieldError(f"signatories.{kind}", _("Unknown letter kind.")))
        elif not person["title"].strip() or not NIP_RE.match(person.get("nip", "")):
            errors.append(FieldError(f"signatories.{kind}", _("Give the signatory's title, and a NIP made of digits.")))
    return errors


def _values_from(data: OfficeIn | OfficePatch, base: dict[str, Any] | None = None) -> dict[str, Any]:
    values = dict(base or {})
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is msgspec.UNSET:
            continue
        if field == "signatories":
            value = {k: msgspec.structs.asdict(v) for k, v in value.items()}
        elif isinstance(value, str):
            value = value.strip()
        elif field == "letterhead":
            value = [line.strip() for line in value]
        values[field] = value
    if "code" in values:
        values["code"] = values["code"].upper()
    return values


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for field in ("letterhead", "signatories", "kind_codes"):
        out[field] = json.dumps(out[field])
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
    errors = _check(values)
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
        base = {k: _loads(v) if k in ("letterhead", "signatories", "kind_codes") else v for k, v in current.items()}
        base = {k: v for k, v in base.items() if k not in ("id", "version", "created_at", "updated_at")}
        values = _values_from(data, base)
        if current["is_default"] and not values["is_default"]:
            raise Conflict(
                _("Make another office the default first: one office must always be the default."),
                errors=[FieldError("is_default", _("One office must always be the default."))],
            )
        errors = _check(values)
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
