"""Settings read once from the environment.

Every setting has one name (``TKM_*``); a missing or invalid one stops start-up
with a single line that names it (``SettingsError``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tkm import ROOT

#: Values that must never sign sessions in production (README and compose examples).
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development", "tkm"})
MIN_SECRET_LENGTH = 32


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    result_backend: str
    secret_key: str
    smtp_url: str | None
    environment: str
    base_url: str
    log_level: str = "INFO"
    session_redis_url: str | None = None
    #: The installation's PKCS#12 letters are signed with (offices may load their own); unset in development:
    #: a self-signed certificate per office under TKM_DATA_DIR/signing/dev.
    signing_p12: Path | None = None
    signing_password: str = ""
    #: ``module:factory`` of another signer (e.g. a BSrE signing service); empty: the built-in PKCS#12 signer.
    signer: str = ""
    templates_dir: Path = field(default=ROOT / "templates")
    workflows_dir: Path = field(default=ROOT / "workflows")
    static_dir: Path = field(default=ROOT / "tkm" / "static")
    worker_concurrency: int = 2
    worker_max_tasks_per_child: int = 50
    #: Failed log-ins of one account (from any address) in the window after which its owner gets a notice.
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 50
    login_window_seconds: int = 900
    #: Failures of one account from one address before each further try waits (the wait doubles, up to the window).
    login_free_attempts: int = 5
    login_base_delay_seconds: int = 30
    #: Sign-ups and password-reset requests allowed from one address per hour.
    register_max_per_address: int = 5
    reset_max_per_address: int = 10
    max_upload_bytes: int = 10 * 1024 * 1024
    #: Keys the hash chains (HMAC-SHA256); kept out of the database so that database access alone cannot
    #: recompute a link.
    ledger_key: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def database_kind(self) -> str:
        return "postgres" if self.database_url.startswith(("postgres://", "postgresql://")) else "sqlite"

    @property
    def broker_kind(self) -> str:
        return "redis" if self.broker_url.startswith(("redis://", "rediss://")) else "filesystem"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _check_database_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        if len(url) == len("sqlite:///"):
            raise SettingsError("TKM_DATABASE_URL sqlite:/// needs a file path")
        return url
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        if not parts.hostname and "host=" not in parts.query:
            raise SettingsError(f"TKM_DATABASE_URL has no host: {url!r}")
        if not parts.path.strip("/"):
            raise SettingsError(f"TKM_DATABASE_URL has no database name: {url!r}")
        return url
    raise SettingsError(f"TKM_DATABASE_URL must start with postgresql:// or sqlite:///, got {parts.scheme or url!r}")


def _check_broker_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "filesystem"):
        raise SettingsError(f"TKM_BROKER_URL must start with redis:// or filesystem://, got {scheme or url!r}")
    return url


def _dev_secret(data_dir: Path, name: str = "secret_key") -> str:
    """A per-installation key kept in TKM_DATA_DIR so sessions (and chain links) survive restarts.

    Several processes may start at once on a new data dir (web, worker, scheduler): the key is written whole
    to a file of its own and then linked into place, so a reader never sees half a key and the first process
    to link wins; the others read the winner's key.
    """
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first: use its key
    finally:
        draft.unlink()
    return path.read_text().strip()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("TKM_DATA_DIR") or "./var").expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"TKM_DATA_DIR {data_dir} cannot be created: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise SettingsError(f"TKM_DATA_DIR {data_dir} is not writable")

    database_url = _check_database_url(env.get("TKM_DATABASE_URL") or f"sqlite:///{data_dir / 'tkm.sqlite3'}")
    broker_url = _check_broker_url(env.get("TKM_BROKER_URL") or "filesystem://")
    is_redis = broker_url.startswith(("redis://", "rediss://"))
    result_backend = env.get("TKM_RESULT_BACKEND") or (
        broker_url if is_redis else f"file://{data_dir / 'broker' / 'results'}"
    )

    environment = env.get("TKM_ENV") or ("production" if database_url.startswith("postgres") else "development")
    if environment not in ("production", "development"):
        raise SettingsError(f"TKM_ENV must be production or development, got {environment!r}")

    secret_key = env.get("TKM_SECRET_KEY", "")
    if environment == "production":
        if secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"TKM_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters "
                "in production (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
    elif not secret_key:
        secret_key = _dev_secret(data_dir)

    ledger_key = env.get("TKM_LEDGER_KEY", "")
    if environment == "production":
        if (
            ledger_key.strip().lower() in PLACEHOLDER_SECRETS
            or len(ledger_key) < MIN_SECRET_LENGTH
            or (ledger_key == secret_key)
        ):
            raise SettingsError(
                f"TKM_LEDGER_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters, "
                "other than TKM_SECRET_KEY, in production "
                "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
    elif not ledger_key:
        ledger_key = _dev_secret(data_dir, "ledger_key")

    smtp_url = env.get("TKM_SMTP_URL") or None
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise SettingsError(f"TKM_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://, got {smtp_url!r}")

    base_url = (env.get("TKM_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise SettingsError(f"TKM_BASE_URL must be an http:// or https:// address, got {base_url!r}")

    log_level = (env.get("TKM_LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"TKM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    session_redis_url = env.get("TKM_SESSION_REDIS_URL") or (broker_url if is_redis else None)

    kwargs: dict = {}
    for name, attr in (("TKM_TEMPLATES_DIR", "templates_dir"), ("TKM_WORKFLOWS_DIR", "workflows_dir")):
        if env.get(name):
            path = Path(env[name]).expanduser().resolve()
            if not path.is_dir():
                raise SettingsError(f"{name} {path} is not a directory")
            kwargs[attr] = path

    signing_p12 = None
    if env.get("TKM_SIGNING_P12"):
        signing_p12 = Path(env["TKM_SIGNING_P12"]).expanduser().resolve()
        if not signing_p12.is_file():
            raise SettingsError(f"TKM_SIGNING_P12 {signing_p12} is not a file")
    signer = (env.get("TKM_SIGNER") or "").strip()
    if signer and ":" not in signer:
        raise SettingsError(f"TKM_SIGNER must be module:factory, got {signer!r}")

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        result_backend=result_backend,
        secret_key=secret_key,
        ledger_key=ledger_key,
        smtp_url=smtp_url,
        environment=environment,
        base_url=base_url,
        log_level=log_level,
        session_redis_url=session_redis_url,
        signing_p12=signing_p12,
        signing_password=env.get("TKM_SIGNING_PASSWORD", ""),
        signer=signer,
        worker_concurrency=_int(env, "TKM_WORKER_CONCURRENCY", 2, minimum=1),
        worker_max_tasks_per_child=_int(env, "TKM_WORKER_MAX_TASKS_PER_CHILD", 50, minimum=1),
        login_max_failures_per_account=_int(env, "TKM_LOGIN_MAX_FAILURES", 5, minimum=1),
        login_max_failures_per_address=_int(env, "TKM_LOGIN_MAX_FAILURES_PER_ADDRESS", 50, minimum=1),
        login_free_attempts=_int(env, "TKM_LOGIN_FREE_ATTEMPTS", 5, minimum=1),
        login_base_delay_seconds=_int(env, "TKM_LOGIN_BASE_DELAY", 30, minimum=1),
        register_max_per_address=_int(env, "TKM_REGISTER_MAX_PER_ADDRESS", 5, minimum=1),
        reset_max_per_address=_int(env, "TKM_RESET_MAX_PER_ADDRESS", 10, minimum=1),
        **kwargs,
    )


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Replace the process-wide settings (tests and the CLI's --data-dir)."""
    global _settings
    _settings = settings
