from piccolo.columns import JSON, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class User(Table, tablename="users"):
    email = Varchar(length=320, unique=True)
    name = Varchar(length=200)
    phone = Varchar(length=30, default="")
    password_hash = Varchar(length=200)
    role = Varchar(length=20, index=True)
    #: Kemendagri region codes the user works in ("13" covers "13.*"); empty for applicants.
    regions = JSON(default="[]")
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_tokens"):
    """One per log-in: the bearer token (stored as its SHA-256) and the session cookie both point here."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    address = Varchar(length=100, default="")
    user_agent = Varchar(length=300, default="")


class LoginAttempt(Table, tablename="login_attempts"):
    """Every log-in try, sign-up and password-reset request: what throttling and rate limits count."""

    at = Timestamptz(index=True)
    email = Varchar(length=320, index=True)
    address = Varchar(length=100, index=True)
    success = Boolean()
    #: ``login``, ``register`` or ``reset``.
    kind = Varchar(length=20, default="login", index=True)


class PasswordReset(Table, tablename="password_resets"):
    """A one-time link sent by e-mail: only the token's SHA-256 is kept; used once, or it expires."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    address = Varchar(length=100, default="")
