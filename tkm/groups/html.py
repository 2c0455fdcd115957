"""Pages for community groups: list, register with members, view, change; the NIK check as you type.

Handlers are thin: they read the form, call ``tkm.groups.services`` (the same
functions as the JSON API) and render. Rules live in the services.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tkm import regions
from tkm.applications import services as application_services
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import Forbidden, Problem
from tkm.core.i18n import _
from tkm.core.pagination import PageParams, page_params
from tkm.groups import services
from tkm.groups.nik import NikError, parse_nik
from tkm.groups.schemas import GroupIn, GroupPatch
from tkm.programmes.services import list_centres, today
from tkm.web import forms
from tkm.web.flash import flash
from tkm.web.labels import GENDERS, MEMBER_ROLES, label

GROUP_FIELDS = (
    "name",
    "region",
    "address",
    "products",
    "training_centre",
    "bank_account.bank",
    "bank_account.number",
    "bank_account.holder",
)
MEMBER_FIELDS = ("nik", "name", "role", "gender", "phone")
#: Rows offered on an empty form: a group needs a leader, and usually a secretary and a treasurer.
STARTING_ROLES = ("ketua", "sekretaris", "bendahara", "anggota", "anggota")
PER_PAGE = 20


def nik_check(nik: str, gender: str = "") -> dict[str, Any]:
    """What a NIK says, for the hint next to the NIK field (``state``: empty, partial, error or ok)."""
    nik = (nik or "").strip()
    if not nik:
        return {"state": "empty"}
    if nik.isascii() and nik.isdigit() and len(nik) < 16:
        return {"state": "partial", "digits": len(nik)}
    try:
        info = parse_nik(nik, today())
    except NikError as exc:
        return {"state": "error", "message": str(exc)}
    return {
        "state": "ok",
        "district": info.district,
        "birth_date": info.birth_date,
        "gender": info.gender,
        "gender_differs": gender in GENDERS and gender != info.gender,
    }


def blank_member(role: str = "anggota") -> dict[str, str]:
    return {"nik": "", "name": "", "role": role, "gender": "", "phone": ""}


def read_group_form(form: Any) -> dict[str, Any]:
    """The form as typed, for re-showing it: plain fields plus the member rows."""
    data: dict[str, Any] = forms.values(form, (*GROUP_FIELDS, "province", "version"))
    data["members"] = forms.rows(form, "members", MEMBER_FIELDS, text_fields=("nik", "name", "phone"))
    return data


def group_payload(data: dict[str, Any]) -> tuple[dict[str, Any], forms.FormErrors]:
    """The API body for the typed form, and the choices that were not made (a blank gender)."""
    errors = forms.FormErrors()
    members = []
    for i, m in enumerate(data["members"]):
        if m["gender"] not in GENDERS:
            errors.add(f"members[{i}].gender", _("Choose male (L) or female (P)."))
        if m["role"] not in MEMBER_ROLES:
            errors.add(f"members[{i}].role", _("Choose the member's role."))
        members.append({k: m[k].strip() for k in MEMBER_FIELDS})
    products = [p.strip() for p in re.split(r"[,;\n]", data["products"]) if p.strip()]
    payload = {
        "name": data["name"],
        "region": data["region"].strip(),
        "address": data["address"],
        "members": members,
        "bank_account": {
            "bank": data["bank_account.bank"],
            "number": data["bank_account.number"],
            "holder": data["bank_account.holder"],
        },
        "products": products,
        "training_centre": data["training_centre"] or None,
    }
    return payload, errors


def form_from_group(group: dict[str, Any]) -> dict[str, Any]:
    bank = group["bank_account"]
    return {
        "name": group["name"],
        "region": group["region"],
        "province": group["region"].split(".")[0],
        "address": group["address"],
        "products": ", ".join(group["products"]),
        "training_centre": group["training_centre"] or "",
        "bank_account.bank": bank["bank"],
        "bank_account.number": bank["number"],
        "bank_account.holder": bank["holder"],
        "version": str(group["version"]),
        "members": [{k: str(m[k] or "") for k in MEMBER_FIELDS} for m in group["members"]],
    }


def product_errors_to_field(errors: forms.FormErrors) -> None:
    """``products[3]`` errors are shown at the single products input."""
    for _name, message in errors.under("products[").items():
        errors.add("products", message)


def region_choices(province: str) -> dict[str, Any]:
    """Regencies/cities of one province, or all of them grouped by province when none is chosen yet."""
    if province and regions.exists(province):
        return {"grouped": False, "regencies": regions.children(province)}
    return {"grouped": True, "provinces": [(p, regions.children(p.code)) for p in regions.provinces()]}


async def form_context(data: dict[str, Any], errors: forms.FormErrors, **extra: Any) -> dict[str, Any]:
    province = data.get("province") or (data.get("region") or "").split(".")[0]
    centres = await list_centres(PageParams(1, 200))
    members = data["members"] or [blank_member(role) for role in STARTING_ROLES]
    return {
        "form": data,
        "members": members,
        "nik_checks": [nik_check(m["nik"], m["gender"]) for m in members],
        "errors": errors,
        "province": province,
        "provinces": regions.provinces(),
        "region_choices": region_choices(province),
        "centres": centres["items"],
        "member_roles": [(r, label(r, "member_role")) for r in MEMBER_ROLES],
        "genders": [(g, label(g, "gender")) for g in GENDERS],
        **extra,
    }


def row_edit(form: Any, data: dict[str, Any]) -> bool:
    """Without JavaScript, "add a member" and "remove" are submit buttons; apply them to the typed rows."""
    if form.get("_add") == "member":
        data["members"].append(blank_member())
        return True
    remove = form.get("_remove")
    if remove is not None and str(remove).isascii() and str(remove).isdigit() and len(str(remove)) < 5:
        index = int(remove)
        if 0 <= index < len(data["members"]):
            del data["members"][index]
        return True
    return False


def _changed(current: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Only the parts of the group that the form changed (a group under review may still change its name)."""
    before = form_from_group(current)
    before_payload, _errors = group_payload(before)
    return {key: value for key, value in payload.items() if value != before_payload.get(key)}


class GroupPages(Controller):
    include_in_schema = False
    dependencies = {"user": Provide(provide_user)}

    @get("/groups")
    async def list_page(
        self, user: NamedDependency[CurrentUser], q: FromQuery[str | None] = None, page: FromQuery[int | None] = None
    ) -> Template:
        params = page_params(page, PER_PAGE)
        result = await services.list_groups(user, params, q=q)
        return Template("groups/list.html", context={"result": result, "q": q or ""})

    @get("/groups/new")
    async def new_page(self, user: NamedDependency[CurrentUser]) -> Template:
        if user.role != Role.applicant:
            raise Forbidden(_("Only a group's leader (applicant) registers a group."))
        data = read_group_form({})
        return Template("groups/form.html", context=await form_context(data, forms.FormErrors(), mode="new"))

    @post("/groups/new", guards=[roles(Role.applicant)])
    async def create(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Template | Redirect:
        form = await request.form()
        data = read_group_form(form)
        if row_edit(form, data):
            return Template("groups/form.html", context=await form_context(data, forms.FormErrors(), mode="new"))
        payload, errors = group_payload(data)
        if not errors:
            try:
                group = await services.create_group(user, forms.convert(payload, GroupIn))
            except Problem as problem:
                errors = forms.FormErrors.from_problem(problem)
                status = problem.status
            else:
                flash(request, _("%(name)s is registered.", name=group["name"]))
                return Redirect(f"/groups/{group['id']}", status_code=303)
        else:
            status = 422
        product_errors_to_field(errors)
        context = await form_context(data, errors, mode="new")
        return Template("groups/form.html", context=context, status_code=status)

    @get("/groups/{group_id:int}")
    async def detail(self, user: NamedDependency[CurrentUser], group_id: FromPath[int]) -> Template:
        group = await services.get_group(group_id, user)
        applications = await application_services.list_applications(user, PageParams(1, 200), q=group["name"])
        mine = [a for a in applications["items"] if a["group"]["id"] == group_id]
        can_edit = user.role == Role.applicant and group["owner"] == user.id
        return Template(
            "groups/detail.html",
            context={
                "group": group,
                "applications": mine,
                "can_edit": can_edit,
                "nik_checks": [nik_check(m["nik"]) for m in group["members"]],
            },
        )

    @get("/groups/{group_id:int}/edit", guards=[roles(Role.applicant)])
    async def edit_page(self, user: NamedDependency[CurrentUser], group_id: FromPath[int]) -> Template:
        group = await services.get_group(group_id, user)
        if user.role != Role.applicant or group["owner"] != user.id:
            raise Forbidden(_("Only the group's leader may change it."))
        context = await form_context(form_from_group(group), forms.FormErrors(), mode="edit", group=group)
        return Template("groups/form.html", context=context)

    @post("/groups/{group_id:int}/edit", guards=[roles(Role.applicant)])
    async def update(
        self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser], group_id: FromPath[int]
    ) -> Template | Redirect:
        group = await services.get_group(group_id, user)
        form = await request.form()
        data = read_group_form(form)
        if row_edit(form, data):
            context = await form_context(data, forms.FormErrors(), mode="edit", group=group)
            return Template("groups/form.html", context=context)
        payload, errors = group_payload(data)
        status = 422
        if not errors:
            changes = _changed(group, payload)
            if not changes:
                flash(request, _("Nothing was changed."), kind="warn")
                return Redirect(f"/groups/{group_id}", status_code=303)
            version = forms.parse_amount(data["version"])
            try:
                await services.patch_group(group_id, user, forms.convert(changes, GroupPatch), version)
            except Problem as problem:
                errors = forms.FormErrors.from_problem(problem)
                status = problem.status
            else:
                flash(request, _("The group's details are saved."))
                return Redirect(f"/groups/{group_id}", status_code=303)
        product_errors_to_field(errors)
        context = await form_context(data, errors, mode="edit", group=group)
        return Template("groups/form.html", context=context, status_code=status)

    @post("/groups/check-nik", status_code=200)
    async def check_nik(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> Template:
        """``nik`` and ``gender`` (or a member row's own field names): the NIK hint as a partial for htmx.

        A POST, not a GET: a NIK is personal data and must not end up in URLs (access logs, proxies).
        """
        form = await request.form()
        nik = gender = ""
        for key, value in form.multi_items():
            if not isinstance(value, str):
                continue
            if key == "nik" or key.endswith(".nik"):
                nik = value
            elif key == "gender" or key.endswith(".gender"):
                gender = value
        return Template("groups/_nik_check.html", context={"check": nik_check(nik[:40], gender)})

    @get("/groups/region-options")
    async def region_options(self, user: NamedDependency[CurrentUser], province: FromQuery[str] = "") -> Template:
        """The regency/city ``<option>`` list for a province (htmx swaps it into the region select)."""
        return Template(
            "groups/_region_options.html", context={"region_choices": region_choices(province), "form": {"region": ""}}
        )
