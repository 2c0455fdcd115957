"""/api/v1/groups (API.md: Community groups)."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.pagination import page_params
from tkm.core.params import IfMatch
from tkm.core.schemas import out
from tkm.groups import services
from tkm.groups.schemas import GroupIn, GroupOut, GroupPageOut, GroupPatch
from tkm.workflow.engine import parse_if_match


class GroupController(Controller):
    path = "/api/v1/groups"
    tags = ["groups"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[roles(Role.applicant)],
        summary="Register a community group and its members (applicant)",
    )
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[GroupIn]) -> GroupOut:
        return out(GroupOut, await services.create_group(user, data))

    @get("/", summary="Groups you may see (yours; staff: your regions)")
    async def list(
        self,
        user: NamedDependency[CurrentUser],
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
        q: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
    ) -> GroupPageOut:
        return out(GroupPageOut, await services.list_groups(user, page_params(page, per_page), q, region))

    @get("/{group_id:int}", summary="One group with its members")
    async def get_one(self, user: NamedDependency[CurrentUser], group_id: FromPath[int]) -> GroupOut:
        return out(GroupOut, await services.get_group(group_id, user))

    @patch(
        "/{group_id:int}",
        guards=[roles(Role.applicant)],
        summary="Change a group (its leader); members are replaced as a whole",
    )
    async def update(
        self,
        user: NamedDependency[CurrentUser],
        group_id: FromPath[int],
        data: JSONBody[GroupPatch],
        if_match: IfMatch = None,
    ) -> GroupOut:
        return out(GroupOut, await services.patch_group(group_id, user, data, parse_if_match(if_match)))
