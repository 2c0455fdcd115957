"""Creating and reading training centres and programmes; the programme's budget rules."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from tkm import regions
from tkm.auth.roles import CurrentUser
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, NotFound, ValidationProblem
from tkm.core.i18n import _
from tkm.core.pagination import PageParams
from tkm.core.settings import get_settings
from tkm.programmes import quotas
from tkm.programmes.schemas import COMPONENTS, ProgrammeIn, ProgrammeQuotasIn, TrainingCentreIn
from tkm.programmes.tables import Programme, TrainingCentre

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}\Z")
JAKARTA = ZoneInfo("Asia/Jakarta")


def today() -> dt.date:
    """The programme calendar runs on Western Indonesia time."""
    return dt.datetime.now(JAKARTA).date()


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def centre_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "region": row["region"],
        "region_name": regions.name(row["region"]),
        "vocations": _loads(row["vocations"]) or [],
        "it_based": bool(row["it_based"]),
    }


def programme_out(row: dict[str, Any]) -> dict[str, Any]:
    opens, closes = row["opens_on"], row["closes_on"]
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "workflow": row["workflow"],
        "fiscal_year": row["fiscal_year"],
        "budget_ceiling": row["budget_ceiling"],
        "max_per_group": row["max_per_group"],
        "min_members": row["min_members"],
        "max_members": row["max_members"],
        "regions": _loads(row["regions"]) or [],
        "opens_on": opens.isoformat(),
        "closes_on": closes.isoformat(),
        "components": _loads(row["components"]) or {},
        "report_due_day": row["report_due_day"],
        "reminder_grace_days": row["reminder_grace_days"],
        "is_open": opens <= today() <= closes,
        "quotas": quotas.loads(row.get("quotas")),
        "account_code": row.get("account_code") or "",
        "budget_reference": row.get("budget_reference") or "",
    }


async def create_centre(actor: CurrentUser, data: TrainingCentreIn) -> dict[str, Any]:
    errors = []
    if not CODE_RE.match(data.code):
        errors.append(FieldError("code", _("Use 2 to 40 letters, digits, dots, dashes or underscores.")))
    if not data.name.strip():
        errors.append(FieldError("name", _("Name is required.")))
    if not regions.exists(data.region):
        errors.append(FieldError("region", _("Unknown region code %(code)s.", code=data.region)))
    for i, vocation in enumerate(data.vocations):
        if not vocation.strip() or len(vocation) > 60:
            errors.append(FieldError(f"vocations[{i}]", _("A vocation is a short name, e.g. menjahit.")))
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        if await TrainingCentre.exists().where(TrainingCentre.code == data.code):
            raise Conflict(
                _("Training centre %(code)s already exists.", code=data.code),
                errors=[FieldError("code", _("This code is already used."))],
            )
        row = TrainingCentre(
            code=data.code,
            name=data.name.strip(),
            kind=data.kind,
            region=data.region,
            vocations=json.dumps([v.strip().lower() for v in data.vocations]),
            it_based=data.it_based,
            created_at=dt.datetime.now(dt.UTC),
        )
        await row.save()
        await audit.record(
            "training_centre.created",
            actor_id=actor.id,
            actor=actor.email,
            object_type="training_centre",
            object_id=row.id,
            details={"code": data.code},
        )
    return centre_out(row.to_dict())


async def list_centres(params: PageParams, region: str | None = None, kind: str | None = None) -> dict[str, Any]:
    query = TrainingCentre.select()
    count = TrainingCentre.count()
    if region:
        cond = (TrainingCentre.region == region) | TrainingCentre.region.like(region + ".%")
        query, count = query.where(cond), count.where(cond)
    if kind:
        query, count = query.where(TrainingCentre.kind == kind), count.where(TrainingCentre.kind == kind)
    rows = await query.order_by(TrainingCentre.code).limit(params.per_page).offset(params.offset)
    return params.envelope([centre_out(r) for r in rows], await count)


def _check_programme(data: ProgrammeIn) -> list[FieldError]:
    errors: list[FieldError] = []
    if not CODE_RE.match(data.code):
        errors.append(FieldError("code", _("Use 2 to 40 letters, digits, dots, dashes or underscores.")))
    if not data.name.strip():
        errors.append(FieldError("name", _("Name is required.")))
    workflows_dir = get_settings().workflows_dir
    if not re.match(r"^[a-z0-9-]+$", data.workflow) or not (workflows_dir / f"{data.workflow}.toml").exists():
        errors.append(FieldError("workflow", _("Unknown workflow %(name)s.", name=data.workflow)))
    if not 2000 <= data.fiscal_year <= 2100:
        errors.append(FieldError("fiscal_year", _("Enter a year such as 2020.")))
    if data.budget_ceiling <= 0:
        errors.append(FieldError("budget_ceiling", _("Must be a positive whole number of rupiah.")))
    if data.max_per_group <= 0:
        errors.append(FieldError("max_per_group", _("Must be a positive whole number of rupiah.")))
    elif data.max_per_group > data.budget_ceiling > 0:
        errors.append(FieldError("max_per_group", _("Cannot exceed the budget ceiling.")))
    if data.min_members < 1:
        errors.append(FieldError("min_members", _("Must be at least 1.")))
    if data.max_members < data.min_members:
        errors.append(FieldError("max_members", _("Cannot be less than min_members.")))
    if not data.regions:
        errors.append(FieldError("regions", _("Name at least one region.")))
    for i, code in enumerate(data.regions):
        if not regions.exists(code):
            errors.append(FieldError(f"regions[{i}]", _("Unknown region code %(code)s.", code=code)))
    if data.closes_on < data.opens_on:
        errors.append(FieldError("closes_on", _("Must not be before opens_on.")))
    if not data.components:
        errors.append(FieldError("components", _("Name at least one component.")))
    for name, rule in data.components.items():
        if name not in COMPONENTS:
            errors.append(
                FieldError(f"components.{name}", _("Unknown component; use %(names)s.", names=", ".join(COMPONENTS)))
            )
            continue
        if rule.max <= 0:
            errors.append(FieldError(f"components.{name}.max", _("Must be a positive whole number of rupiah.")))
        elif rule.max > data.max_per_group > 0:
            errors.append(FieldError(f"components.{name}.max", _("Cannot exceed max_per_group.")))
        if name == "wages":
            if rule.daily_wage_max is None or rule.daily_wage_max <= 0:
                errors.append(
                    FieldError(
                        "components.wages.daily_wage_max",
                        _("Set the highest daily wage, a positive whole number of rupiah."),
                    )
                )
        elif rule.daily_wage_max is not None:
            errors.append(FieldError(f"components.{name}.daily_wage_max", _("Only the wages component has one.")))
    if not 1 <= data.report_due_day <= 28:
        errors.append(FieldError("report_due_day", _("Must be a day between 1 and 28.")))
    if not 0 <= data.reminder_grace_days <= 60:
        errors.append(FieldError("reminder_grace_days", _("Must be between 0 and 60 days.")))
    if all(e.field != "regions" and not e.field.startswith("regions[") for e in errors):
        errors += quotas.check(data.quotas, data.regions, data.budget_ceiling)
    errors += _check_budget_refs(data.account_code, data.budget_reference)
    return errors


def _check_budget_refs(account_code: str | None, budget_reference: str | None) -> list[FieldError]:
    errors = []
    if account_code is not None and (len(account_code) > 100 or "\x00" in account_code):
        errors.append(FieldError("account_code", _("At most %(n)d characters.", n=100)))
    if budget_reference is not None and (len(budget_reference) > 300 or "\x00" in budget_reference):
        errors.append(FieldError("budget_reference", _("At most %(n)d characters.", n=300)))
    return errors


async def create_programme(actor: CurrentUser, data: ProgrammeIn) -> dict[str, Any]:
    errors = _check_programme(data)
    if errors:
        raise ValidationProblem(errors)
    components = {
        name: {k: v for k, v in (("max", rule.max), ("daily_wage_max", rule.daily_wage_max)) if v is not None}
        for name, rule in data.components.items()
    }
    async with db.transaction():
        if await Programme.exists().where(Programme.code == data.code):
            raise Conflict(
                _("Programme %(code)s already exists.", code=data.code),
                errors=[FieldError("code", _("This code is already used."))],
            )
        row = Programme(
            code=data.code,
            name=data.name.strip(),
            workflow=data.workflow,
            fiscal_year=data.fiscal_year,
            budget_ceiling=data.budget_ceiling,
            max_per_group=data.max_per_group,
            min_members=data.min_members,
            max_members=data.max_members,
            regions=json.dumps(data.regions),
            opens_on=data.opens_on,
            closes_on=data.closes_on,
            components=json.dumps(components),
            report_due_day=data.report_due_day,
            reminder_grace_days=data.reminder_grace_days,
            quotas=json.dumps(data.quotas),
            account_code=data.account_code.strip(),
            budget_reference=data.budget_reference.strip(),
            created_at=dt.datetime.now(dt.UTC),
        )
        await row.save()
        await audit.record(
            "programme.created",
            actor_id=actor.id,
            actor=actor.email,
            object_type="programme",
            object_id=row.id,
            details={"code": data.code, "budget_ceiling": data.budget_ceiling},
        )
    return programme_out(row.to_dict())


def covers(programme_regions: list[str], region: str) -> bool:
    """Does a programme for these regions accept a group of ``region``?"""
    return any(region == r or region.startswith(r + ".") for r in programme_regions)


async def list_programmes(
    params: PageParams, region: str | None = None, open_only: bool = False, covering: str | None = None
) -> dict[str, Any]:
    """``region``: programmes touching the region (also those for a part of it); ``covering``: programmes a
    group of that region may apply to."""
    rows = await Programme.select().order_by(Programme.opens_on, ascending=False)
    items = [programme_out(r) for r in rows]
    if region:
        items = [
            p for p in items if covers(p["regions"], region) or any(r.startswith(region + ".") for r in p["regions"])
        ]
    if covering:
        items = [p for p in items if covers(p["regions"], covering)]
    if open_only:
        items = [p for p in items if p["is_open"]]
    return params.envelope(items[params.offset : params.offset + params.per_page], len(items))


async def get_programme(code: str) -> dict[str, Any]:
    row = await Programme.select().where(Programme.code == code).first()
    if row is None:
        raise NotFound(_("Programme %(code)s not found.", code=code))
    return programme_out(row)


async def update_quotas(actor: CurrentUser, code: str, data: ProgrammeQuotasIn) -> dict[str, Any]:
    """Replace a programme's regional quotas (admin). 422 for quotas that break the rules of
    ``tkm.programmes.quotas``; 409 naming the field for a quota below what its region has already approved."""
    if not CODE_RE.match(code):  # no such code can exist (and a NUL byte would be an error on PostgreSQL)
        raise NotFound(_("Programme %(code)s not found.", code=code[:40].replace("\x00", "")))
    async with db.transaction():
        # Locked: an approval checks the quotas under the same lock, so none slips in between.
        row = await db.for_update(Programme.select().where(Programme.code == code)).first()
        if row is None:
            raise NotFound(_("Programme %(code)s not found.", code=code))
        changes: dict[Any, Any] = {}
        refs = {
            k: getattr(data, k).strip() for k in ("account_code", "budget_reference") if getattr(data, k) is not UNSET
        }
        errors = _check_budget_refs(refs.get("account_code"), refs.get("budget_reference"))
        if errors:
            raise ValidationProblem(errors)
        for name, value in refs.items():
            changes[getattr(Programme, name)] = value
            row[name] = value
        if data.quotas is not UNSET:
            new_quotas = data.quotas
            errors = quotas.check(new_quotas, _loads(row["regions"]) or [], int(row["budget_ceiling"]))
            if errors:
                raise ValidationProblem(errors)
            uses = await quotas.usage(int(row["id"]), new_quotas)
            below = quotas.below_approved(new_quotas, uses)
            if below:
                raise Conflict(
                    below[0].message,
                    title=quotas.QUOTA_BELOW_APPROVED,
                    errors=below,
                    extra={"approved": {use.region: use.used for use in uses}},
                )
            before = quotas.loads(row["quotas"])
            changes[Programme.quotas] = json.dumps(new_quotas)
            await audit.record(
                "programme.quotas_changed",
                actor_id=actor.id,
                actor=actor.email,
                object_type="programme",
                object_id=row["id"],
                details={"code": code, "before": before, "after": new_quotas},
            )
            row["quotas"] = new_quotas
        if refs:
            await audit.record(
                "programme.budget_references_changed",
                actor_id=actor.id,
                actor=actor.email,
                object_type="programme",
                object_id=row["id"],
                details={"code": code, **refs},
            )
        if changes:
            await Programme.update(changes).where(Programme.id == row["id"])
    return programme_out(row)
