"""/api/v1/auth/*, /api/v1/me and /api/v1/users (API.md: Users and sign-up)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tkm.auth import resets, services
from tkm.auth.guards import client_address, provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.auth.schemas import (
    AcceptedOut,
    LoginIn,
    LoginOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisteredOut,
    RegisterIn,
    UserCreateIn,
    UserOut,
    UserPageOut,
)
from tkm.auth.sessions import previous_token, rotate_session_id
from tkm.auth.tables import User
from tkm.core.i18n import _
from tkm.core.pagination import page_params
from tkm.core.schemas import out


def registered_detail() -> str:
    return _("If this address can be used, your account is ready: log in. We have sent you an e-mail.")


def reset_sent_detail() -> str:
    return _("If an account has this address, we have sent it a link to set a new password. It works for 30 minutes.")


def user_out(user: CurrentUser) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role, regions=list(user.regions))


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=HTTP_201_CREATED,
        summary="Self sign-up (always role applicant)",
        description="The answer is the same whether or not the address already has an account (its owner gets a "
        "mail instead). Each address may sign up a few times an hour (429 with Retry-After beyond).",
        opt={"problems": (429,)},
    )
    async def register(self, request: Request[Any, Any, Any], data: JSONBody[RegisterIn]) -> RegisteredOut:
        done = await services.register(
            data.email, data.name, data.password, data.phone, address=client_address(request)
        )
        return RegisteredOut(
            id=None, email=done.email, name=done.name, role=Role.applicant, regions=[], detail=registered_detail()
        )

    @post(
        "/password-reset",
        status_code=HTTP_202_ACCEPTED,
        summary="Ask for a password-reset link by e-mail",
        description="The same answer whether or not the address has an account. The link works once, for 30 minutes.",
        opt={"problems": (429,)},
    )
    async def password_reset(self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetIn]) -> AcceptedOut:
        await resets.request_reset(data.email, address=client_address(request))
        return AcceptedOut(detail=reset_sent_detail())

    @post(
        "/password-reset/confirm",
        status_code=HTTP_200_OK,
        summary="Set a new password with the e-mailed token; ends every session and token of the user",
    )
    async def password_reset_confirm(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordResetConfirmIn]
    ) -> AcceptedOut:
        await resets.confirm_reset(data.token, data.password, address=client_address(request))
        return AcceptedOut(detail=_("Your password was changed. Log in with the new one."))

    @post(
        "/login",
        status_code=200,
        summary="Log in: returns a bearer token and sets the session cookie",
        opt={"problems": (401, 429)},
    )
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> LoginOut:
        result = await services.login(
            data.email,
            data.password,
            address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            replaces=previous_token(request),
        )
        rotate_session_id(request)
        request.set_session({"tid": result.token_id, "uid": result.user.id})
        return LoginOut(token=result.token, user=user_out(result.user), expires_at=result.expires_at.isoformat())

    @post("/logout", status_code=HTTP_204_NO_CONTENT, dependencies={"user": Provide(provide_user)})
    async def logout(self, request: Request[Any, Any, Any], user: NamedDependency[CurrentUser]) -> None:
        await services.logout(user, address=client_address(request))
        request.clear_session()


class MeController(Controller):
    path = "/api/v1"
    tags = ["auth"]
    dependencies = {"user": Provide(provide_user)}

    @get("/me", summary="The logged-in user")
    async def me(self, user: NamedDependency[CurrentUser]) -> UserOut:
        return user_out(user)

    @post("/users", status_code=HTTP_201_CREATED, guards=[roles(Role.admin)], summary="Create a user (admin)")
    async def create_user(self, user: NamedDependency[CurrentUser], data: JSONBody[UserCreateIn]) -> UserOut:
        created = await services.create_user(
            user, data.email, data.name, data.password, data.role, data.regions, data.phone
        )
        return user_out(created)

    @get("/users", guards=[roles(Role.admin, Role.auditor)], summary="List users (admin, auditor)")
    async def list_users(
        self,
        page: FromQuery[int | None] = None,
        per_page: FromQuery[int | None] = None,
        role: FromQuery[str | None] = None,
    ) -> UserPageOut:
        params = page_params(page, per_page)
        query = User.select(User.id, User.email, User.name, User.role, User.regions, User.active)
        count = User.count()
        if role:
            query = query.where(User.role == role)
            count = count.where(User.role == role)
        rows = await query.order_by(User.id).limit(params.per_page).offset(params.offset)
        items = [
            {**r, "regions": json.loads(r["regions"]) if isinstance(r["regions"], str) else r["regions"]} for r in rows
        ]
        return out(UserPageOut, params.envelope(items, await count))
