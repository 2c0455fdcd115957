"""Password reset by a one-time link sent by e-mail.

The request answers the same whether or not the address has an account. The link holds a random token of
which only the SHA-256 is stored; it works once, for 30 minutes. Setting the new password follows the
sign-up's strength rules and ends every session and token of the user.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tkm.auth import throttle
from tkm.auth.passwords import hash_password, weakness
from tkm.auth.services import EMAIL_RE, normalise_email, token_hash
from tkm.auth.tables import ApiToken, PasswordReset, User
from tkm.core import audit, db
from tkm.core.errors import invalid
from tkm.core.i18n import _
from tkm.core.settings import get_settings

RESET_LIFETIME = timedelta(minutes=30)
#: Links sent to one account per hour at most (however many addresses ask): no mail-bombing a user.
MAX_LINKS_PER_ACCOUNT = 3


def reset_url(base_url: str, token: str) -> str:
    return f"{base_url}/password-reset/{token}"


async def request_reset(email: str, *, address: str = "") -> None:
    """Send a reset link to ``email`` if it has an active account; otherwise do nothing, visibly the same."""
    import secrets

    settings = get_settings()
    now = datetime.now(UTC)
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise invalid("email", _("Enter a valid e-mail address, e.g. nama@contoh.id."))
    await throttle.check_rate("reset", address, settings.reset_max_per_address, now)
    from tkm.notifications.services import notify

    async with db.transaction():
        await throttle.record("reset", email, address, True, now)
        user = await User.select(User.id, User.name).where(User.email == email, User.active.eq(True)).first()
        if user is None:
            await audit.record("password_reset.unknown", actor=email, object_type="user", address=address)
            return
        recent = await PasswordReset.count().where(
            PasswordReset.user == user["id"], PasswordReset.created_at > now - timedelta(hours=1)
        )
        if recent >= MAX_LINKS_PER_ACCOUNT:
            await audit.record(
                "password_reset.limited", actor=email, object_type="user", object_id=user["id"], address=address
            )
            return
        token = secrets.token_urlsafe(32)
        rows = await PasswordReset.insert(
            PasswordReset(
                user=user["id"],
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + RESET_LIFETIME,
                address=address[:100],
            )
        ).returning(PasswordReset.id)
        await audit.record(
            "password_reset.requested", actor=email, object_type="user", object_id=user["id"], address=address
        )
        await notify(
            f"password-reset-{rows[0]['id']}",
            email,
            _("Set a new TKM password"),
            _(
                "Hello %(name)s,\n\nto choose a new password for your TKM account, open this link within "
                "%(minutes)d minutes:\n\n%(link)s\n\nThe link works once. If you did not ask for it, ignore this "
                "mail: your password stays as it is.\n",
                name=user["name"],
                minutes=int(RESET_LIFETIME.total_seconds() // 60),
                link=reset_url(settings.base_url, token),
            ),
        )


def _bad_link() -> Exception:
    return invalid("token", _("This link is not valid any more. Ask for a new one."))


async def link_is_valid(token: str) -> bool:
    row = (
        await PasswordReset.select(PasswordReset.used_at, PasswordReset.expires_at)
        .where(PasswordReset.token_hash == token_hash(token))
        .first()
    )
    return bool(row) and row["used_at"] is None and throttle._aware(row["expires_at"]) > datetime.now(UTC)


async def confirm_reset(token: str, password: str, *, address: str = "") -> None:
    """Set the new password through the link ``token``; the link is spent and every session ends."""
    now = datetime.now(UTC)
    if not token or len(token) > 200:
        raise _bad_link()
    async with db.transaction():
        row = await (
            PasswordReset.select(
                PasswordReset.id,
                PasswordReset.used_at,
                PasswordReset.expires_at,
                PasswordReset.user.id,
                PasswordReset.user.email,
                PasswordReset.user.name,
                PasswordReset.user.active,
            )
            .where(PasswordReset.token_hash == token_hash(token))
            .first()
        )
        if (
            row is None
            or row["used_at"] is not None
            or throttle._aware(row["expires_at"]) <= now
            or not row["user.active"]
        ):
            raise _bad_link()
        problem = weakness(password, email=row["user.email"], name=row["user.name"])
        if problem:
            raise invalid("password", _(problem))
        # Spent only if nobody spent it first (two tabs, a replay): the condition decides.
        spent = await db.fetch_one(
            "UPDATE password_resets SET used_at = {} WHERE id = {} AND used_at IS NULL RETURNING id", now, row["id"]
        )
        if not spent:
            raise _bad_link()
        user_id = row["user.id"]
        await User.update({User.password_hash: hash_password(password)}).where(User.id == user_id)
        # Every other link of the user, and every session and bearer token, ends with the old password.
        await PasswordReset.update({PasswordReset.used_at: now}).where(
            PasswordReset.user == user_id, PasswordReset.used_at.is_null()
        )
        await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.user == user_id, ApiToken.revoked_at.is_null())
        await audit.record(
            "password_reset",
            actor_id=user_id,
            actor=row["user.email"],
            object_type="user",
            object_id=user_id,
            address=address,
        )
        from tkm.notifications.services import notify

        await notify(
            f"password-changed-{row['id']}",
            row["user.email"],
            _("Your TKM password was changed"),
            _(
                "Hello %(name)s,\n\nthe password of your TKM account was just changed and every session was "
                "logged out. If it was not you, ask for a new password at once at %(reset)s.\n",
                name=row["user.name"],
                reset=f"{get_settings().base_url}/password-reset",
            ),
        )
