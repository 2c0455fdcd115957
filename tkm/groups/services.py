"""Community groups and their members: create, read, change, with NIK and membership rules."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from tkm import regions
from tkm.auth.roles import CurrentUser, Role
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, Forbidden, NotFound, NotYours, PreconditionFailed, ValidationProblem
from tkm.core.i18n import _
from tkm.core.pagination import PageParams
from tkm.groups.nik import NikError, parse_nik
from tkm.groups.schemas import GroupIn, GroupPatch, MemberIn
from tkm.groups.tables import Group, Member
from tkm.programmes.services import today
from tkm.programmes.tables import TrainingCentre

PHONE_RE = re.compile(r"^\+?[0-9]{8,15}\Z")
ACCOUNT_RE = re.compile(r"^[0-9]{5,20}\Z")
MAX_MEMBERS = 100


def _phone(value: str) -> str:
    return re.sub(r"[\s().-]", "", value or "")


def check_members(members: list[MemberIn], prefix: str = "members") -> tuple[list[dict[str, Any]], list[FieldError]]:
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    if not members:
        errors.append(FieldError(prefix, _("Add the group's members.")))
    if len(members) > MAX_MEMBERS:
        errors.append(FieldError(prefix, _("At most %(n)d members.", n=MAX_MEMBERS)))
    for i, m in enumerate(members):
        key = f"{prefix}[{i}]"
        nik = m.nik.strip()
        try:
            info = parse_nik(nik, today())
        except NikError as exc:
            errors.append(FieldError(f"{key}.nik", str(exc)))
            info = None
        if nik in seen:
            errors.append(
                FieldError(
                    f"{key}.nik", _("NIK %(nik)s is listed twice (also as member %(n)d).", nik=nik, n=seen[nik] + 1)
                )
            )
        seen.setdefault(nik, i)
        if info is not None and info.gender != m.gender:
            errors.append(FieldError(f"{key}.gender", _("The NIK says %(gender)s.", gender=info.gender)))
        name = m.name.strip()
        if not name or len(name) > 200:
            errors.append(FieldError(f"{key}.name", _("Name is required (at most 200 characters).")))
        phone = _phone(m.phone)
        if phone and not PHONE_RE.match(phone):
            errors.append(FieldError(f"{key}.phone", _("Enter a phone number of 8 to 15 digits, e.g. 081234567890.")))
        clean.append(
            {
                "nik": nik,
                "name": name,
                "role": m.role,
                "gender": m.gender,
                "phone": phone,
                "birth_date": info.birth_date if info else None,
                "position": i,
            }
        )
    leaders = [i for i, m in enumerate(members) if m.role == "ketua"]
    if members and len(leaders) != 1:
        errors.append(FieldError(prefix, _("A group has exactly one ketua (leader).")))
    for role in ("sekretaris", "bendahara"):
        if sum(1 for m in members if m.role == role) > 1:
            errors.append(FieldError(prefix, _("A group has at most one %(role)s.", role=role)))
    return clean, errors


def _check_fields(data: GroupIn | GroupPatch) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.name is not None and (not data.name.strip() or len(data.name) > 200):
        errors.append(FieldError("name", _("Name is required (at most 200 characters).")))
    if data.region is not None:
        region = regions.get(data.region)
        if region is None or region.level == "province":
            errors.append(FieldError("region", _("Give the regency/city or district code, e.g. 13.71.")))
    if data.address is not None and (not data.address.strip() or len(data.address) > 1000):
        errors.append(FieldError("address", _("Address is required (at most 1000 characters).")))
    if data.products is not None:
        if len(data.products) > 30:
            errors.append(FieldError("products", _("At most %(n)d products.", n=30)))
        for i, product in enumerate(data.products):
            if not product.strip() or len(product) > 60:
                errors.append(FieldError(f"products[{i}]", _("A product is a short name, e.g. masker.")))
    if data.bank_account is not None:
        account = data.bank_account
        if not account.bank.strip() or len(account.bank) > 100:
            errors.append(FieldError("bank_account.bank", _("Name the bank, e.g. BRI.")))
        if not ACCOUNT_RE.match(account.number.replace(" ", "").replace("-", "")):
            errors.append(FieldError("bank_account.number", _("An account number is 5 to 20 digits.")))
        if not account.holder.strip() or len(account.holder) > 200:
            errors.append(FieldError("bank_account.holder", _("Name the account holder.")))
    return errors


async def _centre_id(code: str | None) -> int | None:
    if code is None:
        return None
    row = await TrainingCentre.select(TrainingCentre.id).where(TrainingCentre.code == code).first()
    if row is None:
        raise ValidationProblem([FieldError("training_centre", _("Unknown training centre %(code)s.", code=code))])
    return int(row["id"])


async def _refuse_grant_clash(members: list[dict[str, Any]], exclude_group: int | None) -> None:
    from tkm.applications.hooks import grant_holders

    clashes = await grant_holders([m["nik"] for m in members], exclude_group)
    if clashes:
        index = {m["nik"]: i for i, m in enumerate(members)}
        errors = [
            FieldError(
                f"members[{index[nik]}].nik",
                _("NIK %(nik)s is already a member of %(group)s, which holds an active grant.", nik=nik, group=group),
            )
            for nik, group in sorted(clashes.items())
        ]
        raise Conflict(errors[0].message, errors=errors, title="Member already in a funded group")


async def _insert_members(group_id: int, members: list[dict[str, Any]]) -> None:
    await Member.insert(*[Member(group_id=group_id, **m) for m in members])


def group_out(row: dict[str, Any], members: list[dict[str, Any]], centre_code: str | None) -> dict[str, Any]:
    products = json.loads(row["products"]) if isinstance(row["products"], str) else row["products"]
    return {
        "id": row["id"],
        "name": row["name"],
        "region": row["region"],
        "region_name": regions.name(row["region"]),
        "address": row["address"],
        "training_centre": centre_code,
        "products": products,
        "bank_account": {
            "bank": row["bank_name"],
            "number": row["bank_account_number"],
            "holder": row["bank_account_holder"],
        },
        "members": [
            {
                "nik": m["nik"],
                "name": m["name"],
                "role": m["role"],
                "gender": m["gender"],
                "phone": m["phone"],
                "birth_date": m["birth_date"].isoformat() if m["birth_date"] else None,
            }
            for m in members
        ],
        "member_count": len(members),
        "owner": row["owner"],
        "version": row["version"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def can_see(actor: CurrentUser, row: dict[str, Any]) -> bool:
    if actor.sees_everything:
        return True
    if actor.role == Role.applicant:
        return int(row["owner"]) == actor.id
    return actor.covers(row["region"])


async def _load(group_id: int, actor: CurrentUser, *, lock: bool = False) -> dict[str, Any]:
    query = Group.select().where(Group.id == group_id)
    row = await (db.for_update(query) if lock else query).first()
    if row is None:
        raise NotFound(_("Group %(id)s not found.", id=group_id))
    if not can_see(actor, row):
        raise NotYours(_("Group %(id)s not found.", id=group_id))
    return row


async def _view(row: dict[str, Any]) -> dict[str, Any]:
    members = await Member.select().where(Member.group_id == row["id"]).order_by(Member.position)
    centre = None
    if row["training_centre"]:
        c = await TrainingCentre.select(TrainingCentre.code).where(TrainingCentre.id == row["training_centre"]).first()
        centre = c["code"] if c else None
    return group_out(row, members, centre)


async def create_group(actor: CurrentUser, data: GroupIn) -> dict[str, Any]:
    if actor.role != Role.applicant:
        raise Forbidden(_("Only a group's leader (applicant) registers a group."))
    errors = _check_fields(data)
    members, member_errors = check_members(data.members)
    errors.extend(member_errors)
    if errors:
        raise ValidationProblem(errors)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        centre = await _centre_id(data.training_centre)
        await _refuse_grant_clash(members, None)
        rows = await Group.insert(
            Group(
                name=data.name.strip(),
                region=data.region,
                address=data.address.strip(),
                training_centre=centre,
                products=json.dumps([p.strip().lower() for p in data.products]),
                bank_name=data.bank_account.bank.strip(),
                bank_account_number=data.bank_account.number.replace(" ", "").replace("-", ""),
                bank_account_holder=data.bank_account.holder.strip(),
                owner=actor.id,
                version=1,
                created_at=now,
                updated_at=now,
            )
        ).returning(Group.id)
        group_id = int(rows[0]["id"])
        await _insert_members(group_id, members)
        await audit.record(
            "group.created",
            actor_id=actor.id,
            actor=actor.email,
            object_type="group",
            object_id=group_id,
            details={"name": data.name, "members": len(members)},
        )
        row = await Group.select().where(Group.id == group_id).first()
        return await _view(row)


async def get_group(group_id: int, actor: CurrentUser) -> dict[str, Any]:
    return await _view(await _load(group_id, actor))


async def list_groups(
    actor: CurrentUser, params: PageParams, q: str | None = None, region: str | None = None
) -> dict[str, Any]:
    query, count = Group.select(), Group.count()
    conditions = []
    if actor.role == Role.applicant:
        conditions.append(Group.owner == actor.id)
    elif not actor.sees_everything:
        conditions.append(actor.region_condition(Group.region))
    if q:
        conditions.append(db.ilike(Group.name, f"%{q.strip()}%"))
    if region:
        conditions.append((Group.region == region) | Group.region.like(region + ".%"))
    for cond in conditions:
        query, count = query.where(cond), count.where(cond)
    rows = await query.order_by(Group.id, ascending=False).limit(params.per_page).offset(params.offset)
    return params.envelope([await _view(r) for r in rows], await count)


async def _frozen(group_id: int) -> bool:
    """A group is frozen while one of its applications is under way: neither editable nor finished
    (the workflow file gives states the traits ``editable`` and ``final``)."""
    from tkm.applications.tables import Application
    from tkm.workflow import loader

    rows = await Application.select(Application.workflow, Application.status).where(Application.group_id == group_id)
    for r in rows:
        state = loader.get(r["workflow"]).states[r["status"]]
        if not (state.has("editable") or state.final):
            return True
    return False


async def _changes_frozen_fields(
    group_id: int, row: dict[str, Any], data: GroupPatch, members: list[dict[str, Any]] | None
) -> bool:
    """Only real changes count: an edit form that sends the same members back is fine."""
    if data.region is not None and data.region != row["region"]:
        return True
    if data.bank_account is not None:
        account = data.bank_account
        if (account.bank.strip(), account.number.replace(" ", "").replace("-", ""), account.holder.strip()) != (
            row["bank_name"],
            row["bank_account_number"],
            row["bank_account_holder"],
        ):
            return True
    if members is not None:
        current = (
            await Member.select(Member.nik, Member.name, Member.role, Member.gender, Member.phone)
            .where(Member.group_id == group_id)
            .order_by(Member.position)
        )
        wanted = [{k: m[k] for k in ("nik", "name", "role", "gender", "phone")} for m in members]
        if wanted != [dict(c) for c in current]:
            return True
    return False


async def patch_group(group_id: int, actor: CurrentUser, data: GroupPatch, if_match: int | None) -> dict[str, Any]:
    errors = _check_fields(data)
    members = None
    if data.members is not None:
        members, member_errors = check_members(data.members)
        errors.extend(member_errors)
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        row = await _load(group_id, actor, lock=True)
        if actor.role != Role.applicant or int(row["owner"]) != actor.id:
            raise Forbidden(_("Only the group's leader may change it."))
        if if_match is not None and if_match != row["version"]:
            raise PreconditionFailed(
                _("The group changed since you read it. Reload it."), extra={"current_version": row["version"]}
            )
        if await _frozen(group_id) and await _changes_frozen_fields(group_id, row, data, members):
            raise Conflict(
                _("Members, bank account and region cannot change while an application is being reviewed or funded.")
            )
        updates: dict[Any, Any] = {Group.updated_at: dt.datetime.now(dt.UTC), Group.version: row["version"] + 1}
        if data.name is not None:
            updates[Group.name] = data.name.strip()
        if data.region is not None:
            updates[Group.region] = data.region
        if data.address is not None:
            updates[Group.address] = data.address.strip()
        if data.products is not None:
            updates[Group.products] = json.dumps([p.strip().lower() for p in data.products])
        if data.bank_account is not None:
            updates[Group.bank_name] = data.bank_account.bank.strip()
            updates[Group.bank_account_number] = data.bank_account.number.replace(" ", "").replace("-", "")
            updates[Group.bank_account_holder] = data.bank_account.holder.strip()
        if data.training_centre is not None:
            updates[Group.training_centre] = await _centre_id(data.training_centre)
        if members is not None:
            await _refuse_grant_clash(members, group_id)
            await Member.delete().where(Member.group_id == group_id)
            await _insert_members(group_id, members)
        await Group.update(updates).where(Group.id == group_id)
        await audit.record(
            "group.changed",
            actor_id=actor.id,
            actor=actor.email,
            object_type="group",
            object_id=group_id,
            details={"fields": sorted(k for k in data.__struct_fields__ if getattr(data, k) is not None)},
        )
        return await _view(await Group.select().where(Group.id == group_id).first())
