from __future__ import annotations

from typing import Literal

import msgspec

from tkm.core.schemas import Out


class BankAccount(msgspec.Struct, forbid_unknown_fields=True):
    bank: str
    number: str
    holder: str


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    nik: str
    name: str
    role: Literal["ketua", "sekretaris", "bendahara", "anggota"]
    gender: Literal["L", "P"]
    phone: str = ""


class GroupIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    region: str
    address: str
    members: list[MemberIn]
    bank_account: BankAccount
    products: list[str] = msgspec.field(default_factory=list)
    training_centre: str | None = None


class GroupPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    region: str | None = None
    address: str | None = None
    members: list[MemberIn] | None = None
    bank_account: BankAccount | None = None
    products: list[str] | None = None
    training_centre: str | None = None


# --- responses ----------------------------------------------------------------------------------------------------


class BankAccountOut(Out):
    bank: str
    number: str
    holder: str


class MemberOut(Out):
    nik: str
    name: str
    role: str
    gender: str
    phone: str
    birth_date: str | None


class GroupOut(Out):
    id: int
    name: str
    region: str
    region_name: str
    address: str
    training_centre: str | None
    products: list[str]
    bank_account: BankAccountOut
    members: list[MemberOut]
    member_count: int
    owner: int
    version: int
    created_at: str
    updated_at: str


class GroupPageOut(Out):
    items: list[GroupOut]
    page: int
    per_page: int
    total: int
