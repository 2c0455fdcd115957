from __future__ import annotations

import msgspec

from tkm.core.schemas import Out


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str
    password: str
    phone: str = ""


class PasswordResetIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str


class PasswordResetConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    #: The token from the e-mailed link (the last part of its path).
    token: str
    password: str


class AcceptedOut(Out):
    #: What happens next, for a person to read.
    detail: str


class RegisteredOut(Out):
    """The same answer for a new address and for one that already has an account (whose owner gets a mail)."""

    #: Always null: an id would tell a new account from an existing one. ``GET /api/v1/me`` gives it after log-in.
    id: int | None
    email: str
    name: str
    role: str
    regions: list[str]
    detail: str


class LoginIn(msgspec.Struct):
    email: str
    password: str


class UserCreateIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str
    password: str
    role: str
    regions: list[str] = msgspec.field(default_factory=list)
    phone: str = ""


class UserOut(Out):
    id: int
    email: str
    name: str
    role: str
    regions: list[str]


class LoginOut(Out):
    token: str
    user: UserOut
    expires_at: str


class UserListItemOut(UserOut):
    active: bool


class UserPageOut(Out):
    items: list[UserListItemOut]
    page: int
    per_page: int
    total: int
