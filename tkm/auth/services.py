"""Sign-up, user administration, log-in with throttling, token and session checks."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tkm import regions
from tkm.auth import throttle
from tkm.auth.passwords import hash_password, needs_rehash, verify_password, weakness
from tkm.auth.roles import ROLES, CurrentUser, Role
from tkm.auth.tables import ApiToken, User
from tkm.core import audit, db
from tkm.core.errors import Conflict, FieldError, TooManyRequests, Unauthorized, ValidationProblem
from tkm.core.i18n import _
from tkm.core.settings import get_settings

TOKEN_LIFETIME = timedelta(days=14)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    return re.sub(r"[\s().-]", "", phone or "")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_from_row(row: dict[str, Any], token_id: int | None = None) -> CurrentUser:
    raw = row.get("regions") or "[]"
    region_list = json.loads(raw) if isinstance(raw, str) else raw
    return CurrentUser(
        id=int(row["id"]),
        email=row["email"],
        name=row["name"],
        role=row["role"],
        regions=tuple(region_list),
        token_id=token_id,
    )


def _check_profile(email: str, name: str, phone: str, password: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not EMAIL_RE.match(email) or len(email) > 320:
        errors.append(FieldError("email", _("Enter a valid e-mail address, e.g. nama@contoh.id.")))
    if not name.strip():
        errors.append(FieldError("name", _("Name is required.")))
    elif len(name) > 200:
        errors.append(FieldError("name", _("Name must be at most 200 characters.")))
    if phone and not PHONE_RE.match(phone):
        errors.append(FieldError("phone", _("Enter a phone number of 8 to 15 digits, e.g. 081234567890.")))
    problem = weakness(password, email=email, name=name)
    if problem:
        errors.append(FieldError("password", _(problem)))
    return errors


async def _insert_user(email: str, name: str, phone: str, password: str, role: str, region_list: list[str]) -> int:
    if await User.exists().where(User.email == email):
        raise Conflict(
            _("An account with this e-mail address already exists."),
            errors=[FieldError("email", _("This e-mail address is already registered."))],
        )
    try:
        rows = await User.insert(
            User(
                email=email,
                name=name.strip(),
                phone=phone,
                password_hash=hash_password(password),
                role=role,
                regions=json.dumps(region_list),
                active=True,
                created_at=datetime.now(UTC),
            )
        ).returning(User.id)
    except Exception as exc:  # a concurrent sign-up with the same address won the unique index
        if "unique" in str(exc).lower():
            raise Conflict(
                _("An account with this e-mail address already exists."),
                errors=[FieldError("email", _("This e-mail address is already registered."))],
            ) from exc
        raise
    return int(rows[0]["id"])


@dataclass(frozen=True)
class Registered:
    """The answer to a sign-up: the same whether or not the address already had an account."""

    email: str
    name: str


async def register(email: str, name: str, password: str, phone: str = "", *, address: str = "") -> Registered:
    """Self sign-up: always an applicant. An address that already has an account gets a mail instead of a
    second account, and the caller the same answer, so sign-up does not reveal who has an account."""
    email, phone = normalise_email(email), normalise_phone(phone)
    errors = _check_profile(email, name, phone, password)
    if errors:
        raise ValidationProblem(errors)
    settings = get_settings()
    now = datetime.now(UTC)
    await throttle.check_rate("register", address, settings.register_max_per_address, now)
    from tkm.notifications.services import notify

    async with db.transaction():
        await throttle.record("register", email, address, True, now)
        existing = await User.select(User.id, User.name).where(User.email == email).first()
        if existing is not None:
            await audit.record(
                "user.register_existing",
                actor=email,
                object_type="user",
                object_id=existing["id"],
                address=address,
            )
            # One mail per hour at most: a sign-up burst must not flood the owner's inbox.
            await notify(
                f"signup-existing-{existing['id']}-{int(now.timestamp()) // 3600}",
                email,
                _("Your TKM account"),
                _(
                    "Hello %(name)s,\n\nsomeone tried to create a TKM account with this e-mail address, which "
                    "already has one. If it was you, log in at %(login)s; if you forgot your password, ask for a "
                    "new one at %(reset)s. If it was not you, you need not do anything.\n",
                    name=existing["name"],
                    login=f"{settings.base_url}/login",
                    reset=f"{settings.base_url}/password-reset",
                ),
            )
            return Registered(email=email, name=name.strip())
        user_id = await _insert_user(email, name, phone, password, Role.applicant, [])
        await audit.record(
            "user.registered", actor_id=user_id, actor=email, object_type="user", object_id=user_id, address=address
        )
        await notify(
            f"welcome-{user_id}",
            email,
            _("Welcome to TKM"),
            _(
                "Hello %(name)s,\n\nyour TKM account is ready. You can now register your group and apply.\n",
                name=name.strip(),
            ),
        )
    return Registered(email=email, name=name.strip())


def check_regions(role: str, region_list: list[str]) -> list[FieldError]:
    errors = []
    for i, code in enumerate(region_list):
        if not isinstance(code, str) or not regions.exists(code):
            errors.append(FieldError(f"regions[{i}]", _("Unknown region code %(code)s.", code=str(code))))
    if role in (Role.reviewer, Role.approver, Role.finance) and not region_list and not errors:
        errors.append(FieldError("regions", _("Staff need at least one region, e.g. 13 or 13.71.")))
    return errors


async def create_user(
    actor: CurrentUser | None, email: str, name: str, password: str, role: str, region_list: list[str], phone: str = ""
) -> CurrentUser:
    """An administrator (or the `tkm user add` command, actor None) creates a user of any role."""
    email, phone = normalise_email(email), normalise_phone(phone)
    errors = _check_profile(email, name, phone, password)
    if role not in ROLES:
        errors.append(
            FieldError("role", _("Unknown role %(role)s; use one of: %(roles)s.", role=role, roles=", ".join(ROLES)))
        )
    else:
        errors.extend(check_regions(role, region_list))
    if errors:
        raise ValidationProblem(errors)
    async with db.transaction():
        user_id = await _insert_user(email, name, phone, password, role, region_list)
        await audit.record(
            "user.created",
            actor_id=actor.id if actor else None,
            actor=actor.email if actor else "cli",
            object_type="user",
            object_id=user_id,
            details={"email": email, "role": role, "regions": region_list},
        )
    return CurrentUser(id=user_id, email=email, name=name.strip(), role=role, regions=tuple(region_list))


@dataclass(frozen=True)
class LoginResult:
    user: CurrentUser
    token: str
    token_id: int
    expires_at: datetime


async def _failure_notice(settings: Any, row: dict[str, Any], address: str, now: datetime) -> None:
    """Tell the owner once per window when their account collects repeated failed log-ins."""
    since = now - timedelta(seconds=settings.login_window_seconds)
    failures = await throttle.account_failures(row["email"], since)
    if failures < settings.login_max_failures_per_account:
        return
    from tkm.notifications.services import notify

    await notify(
        f"login-failures-{row['id']}-{int(now.timestamp()) // settings.login_window_seconds}",
        row["email"],
        _("Failed log-ins to your TKM account"),
        _(
            "Hello %(name)s,\n\nthere were %(count)d failed attempts to log in to your TKM account in the last "
            "%(minutes)d minutes, the latest from address %(address)s. Your account is not locked: you can still "
            "log in with your password. If it was not you, choose a new password at %(reset)s.\n",
            name=row["name"],
            count=failures,
            minutes=settings.login_window_seconds // 60,
            address=address or "-",
            reset=f"{settings.base_url}/password-reset",
        ),
    )


async def login(
    email: str, password: str, *, address: str = "", user_agent: str = "", replaces: int | None = None
) -> LoginResult:
    """Log in; ``replaces`` is the token of the browser's previous session, ended by this log-in."""
    settings = get_settings()
    email = normalise_email(email)
    now = datetime.now(UTC)
    wait = await throttle.login_wait(settings, email, address, now)
    if wait:
        await audit.record("login.throttled", actor=email, object_type="user", address=address)
        throttled = TooManyRequests(
            _(
                "Too many failed log-in attempts. Wait %(minutes)d minutes and try again.",
                minutes=max(1, -(-wait // 60)),
            ),
            headers={"Retry-After": str(wait)},
        )
        throttled.already_audited = True
        raise throttled
    row = await User.select().where(User.email == email).first()
    ok = verify_password(row["password_hash"] if row else None, password)
    if not ok or not row or not row["active"]:
        async with db.transaction():
            await throttle.record("login", email, address, False, now)
            await audit.record(
                "login.failed",
                actor_id=row["id"] if row else None,
                actor=email,
                object_type="user",
                object_id=row["id"] if row else "",
                address=address,
                details={"reason": "inactive" if ok and row else "bad-credentials"},
            )
            if row is not None and row["active"]:
                await _failure_notice(settings, row, address, now)
        problem = Unauthorized(_("E-mail address or password is wrong."))
        problem.already_audited = True
        raise problem
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    async with db.transaction():
        if replaces is not None:
            await ApiToken.update({ApiToken.revoked_at: now}).where(
                ApiToken.id == replaces, ApiToken.revoked_at.is_null()
            )
        rows = await ApiToken.insert(
            ApiToken(
                user=row["id"],
                token_hash=token_hash(token),
                created_at=now,
                expires_at=expires,
                address=address[:100],
                user_agent=user_agent[:300],
            )
        ).returning(ApiToken.id)
        token_id = int(rows[0]["id"])
        updates: dict[Any, Any] = {User.last_login_at: now}
        if needs_rehash(row["password_hash"]):
            updates[User.password_hash] = hash_password(password)
        await User.update(updates).where(User.id == row["id"])
        await throttle.record("login", email, address, True, now)
        await audit.record(
            "login", actor_id=row["id"], actor=email, object_type="user", object_id=row["id"], address=address
        )
    return LoginResult(_user_from_row(row, token_id), token, token_id, expires)


async def logout(user: CurrentUser, *, address: str = "") -> None:
    if user.token_id is None:
        return
    async with db.transaction():
        await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
            ApiToken.id == user.token_id, ApiToken.revoked_at.is_null()
        )
        await audit.record(
            "logout", actor_id=user.id, actor=user.email, object_type="user", object_id=user.id, address=address
        )


async def user_for_token(token: str | None = None, *, token_id: int | None = None) -> CurrentUser | None:
    """The active user behind a bearer token (or the token id a session holds), if still valid."""
    query = ApiToken.select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        *ApiToken.user.all_columns(exclude=[ApiToken.user.password_hash]),
    )
    if token is not None:
        query = query.where(ApiToken.token_hash == token_hash(token))
    elif token_id is not None:
        query = query.where(ApiToken.id == token_id)
    else:
        return None
    row = await query.first()
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= datetime.now(UTC):
        return None
    if not row["user.active"]:
        return None
    user_row = {k.removeprefix("user."): v for k, v in row.items() if k.startswith("user.")}
    return _user_from_row(user_row, int(row["id"]))


async def get_user(user_id: int) -> CurrentUser | None:
    row = await User.select().where(User.id == user_id).first()
    return _user_from_row(row) if row else None
