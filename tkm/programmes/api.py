"""/api/v1/training-centres and /api/v1/programmes (API.md)."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.pagination import page_params
from tkm.core.schemas import out
from tkm.programmes import services
from tkm.programmes.schemas import (
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePageOut,
    ProgrammeQuotasIn,
    TrainingCentreIn,
    TrainingCentreOut,
    TrainingCentrePageOut,
)


class TrainingCentreController(Controller):
    path = "/api/v1/training-centres"
    tags = ["programmes"]
    dependencies = {"user": Provide(provide_user)}

    @get("/", summary="Training centres (BLK)")
    async def list(
        self,
        user: NamedDependency[CurrentUser],
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
        region: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> TrainingCentrePageOut:
        return out(TrainingCentrePageOut, await services.list_centres(page_params(page, per_page), region, kind))

    @post("/", status_code=HTTP_201_CREATED, guards=[roles(Role.admin)], summary="Add a training centre (admin)")
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[TrainingCentreIn]) -> TrainingCentreOut:
        return out(TrainingCentreOut, await services.create_centre(user, data))


class ProgrammeController(Controller):
    path = "/api/v1/programmes"
    tags = ["programmes"]
    dependencies = {"user": Provide(provide_user)}

    @get("/", summary="Programmes (calls for applications)")
    async def list(
        self,
        user: NamedDependency[CurrentUser],
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
        region: FromQuery[str | None] = None,
        open: FromQuery[bool] = False,
        covering: FromQuery[str | None] = None,
    ) -> ProgrammePageOut:
        programmes = await services.list_programmes(page_params(page, per_page), region, open, covering)
        return out(ProgrammePageOut, programmes)

    @get("/{code:str}", summary="One programme")
    async def get_one(self, user: NamedDependency[CurrentUser], code: FromPath[str]) -> ProgrammeOut:
        return out(ProgrammeOut, await services.get_programme(code))

    @post("/", status_code=HTTP_201_CREATED, guards=[roles(Role.admin)], summary="Open a programme (admin)")
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[ProgrammeIn]) -> ProgrammeOut:
        return out(ProgrammeOut, await services.create_programme(user, data))

    @patch(
        "/{code:str}",
        guards=[roles(Role.admin)],
        summary="Change a programme's regional quotas (admin)",
        description="Replaces `quotas` ({region code: rupiah}) as a whole. A quota below what its region has "
        "already approved is 409 naming the field (`quotas.13.71`).",
        opt={"problems": (409,)},
    )
    async def update(
        self, user: NamedDependency[CurrentUser], code: FromPath[str], data: JSONBody[ProgrammeQuotasIn]
    ) -> ProgrammeOut:
        return out(ProgrammeOut, await services.update_quotas(user, code, data))
