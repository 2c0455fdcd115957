from __future__ import annotations

import msgspec

from tkm.core.schemas import Out


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str
    password: str
    phone: str = ""


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
