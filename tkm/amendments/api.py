"""Budget amendments (API.md, Funds (2)): propose and list per application; recommend, approve, reject."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from tkm.amendments import services
from tkm.amendments.schemas import AmendmentActionIn, AmendmentIn, AmendmentOut
from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.params import IfMatch
from tkm.core.schemas import out
from tkm.workflow.engine import parse_if_match


class ApplicationAmendmentsController(Controller):
    path = "/api/v1/applications/{application_id:int}/amendments"
    tags = ["amendments"]
    dependencies = {"user": Provide(provide_user)}

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[roles(Role.applicant)],
        summary="Propose a budget amendment of an active grant (applicant)",
    )
    async def create(
        self, user: NamedDependency[CurrentUser], application_id: FromPath[int], data: JSONBody[AmendmentIn]
    ) -> AmendmentOut:
        return out(AmendmentOut, await services.propose(application_id, user, data))

    @get("/", summary="The application's budget amendments, oldest first")
    async def list(self, user: NamedDependency[CurrentUser], application_id: FromPath[int]) -> list[AmendmentOut]:
        return out(list[AmendmentOut], await services.list_for_application(application_id, user))


class AmendmentController(Controller):
    path = "/api/v1/amendments"
    tags = ["amendments"]
    dependencies = {"user": Provide(provide_user)}

    @get("/{amendment_id:int}", summary="One budget amendment with its history")
    async def get_one(self, user: NamedDependency[CurrentUser], amendment_id: FromPath[int]) -> AmendmentOut:
        return out(AmendmentOut, await services.get_amendment(amendment_id, user))

    @post(
        "/{amendment_id:int}/actions/{action:str}",
        status_code=HTTP_200_OK,
        summary="recommend (reviewer), approve or reject (approver); approving re-plans the unpaid tranches",
    )
    async def act(
        self,
        user: NamedDependency[CurrentUser],
        amendment_id: FromPath[int],
        action: FromPath[str],
        data: JSONBody[AmendmentActionIn | None] = None,
        if_match: IfMatch = None,
    ) -> AmendmentOut:
        fields = {"notes": data.notes, "reasons": data.reasons} if data else {}
        body = {k: v for k, v in fields.items() if v is not None}
        return out(AmendmentOut, await services.act(amendment_id, action, user, body, parse_if_match(if_match)))
