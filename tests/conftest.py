"""Shared fixtures: fresh databases (SQLite and PostgreSQL), the app, real workers and servers.

Each test module gets its own database, copied from a migrated template: the
app runs on the TestClient's own thread and event loop, so per-test rollback
tricks would not reach it (see DESIGN.md).
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import Api
from tkm.testing import builders, external, processes

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class TestDatabase:
    __test__ = False

    def __init__(self, kind: str, url: str, name: str | None = None) -> None:
        self.kind, self.url, self.name = kind, url, name


def _migrate_template(env: dict[str, str]) -> None:
    result = processes.run_tkm(["migrate"], env)
    if result.returncode != 0:
        raise RuntimeError(f"tkm migrate failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def secret_key() -> str:
    return secrets.token_urlsafe(48)


def ledger_key_for(secret_key: str) -> str:
    """The installation's TKM_LEDGER_KEY (production needs one, different from the secret key)."""
    return hashlib.sha256(b"ledger:" + secret_key.encode()).hexdigest()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, secret_key: str) -> Path:
    base = tmp_path_factory.mktemp("sqlite-template")
    _migrate_template({"TKM_DATA_DIR": str(base), "TKM_SECRET_KEY": secret_key})
    # The default office needs its signatories, or it refuses to issue letters.
    builders.set_default_office_signatories(None, sqlite_path=str(base / "tkm.sqlite3"))
    return base / "tkm.sqlite3"


@pytest.fixture(scope="session")
def postgres_template(secret_key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external.require_postgres()
    name = external.create_postgres_database()
    try:
        _migrate_template(
            {
                "TKM_DATABASE_URL": external.postgres_url_for(name),
                "TKM_SECRET_KEY": secret_key,
                "TKM_LEDGER_KEY": ledger_key_for(secret_key),
                "TKM_DATA_DIR": str(tmp_path_factory.mktemp("postgres-template")),
            }
        )
        builders.set_default_office_signatories(external.postgres_url_for(name))
        yield name
    finally:
        external.drop_postgres_database(name)


def _fresh_database(kind: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[TestDatabase]:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp / "tkm.sqlite3"
        shutil.copy(template, path)
        yield TestDatabase("sqlite", f"sqlite:///{path}")
        return
    template_name = request.getfixturevalue("postgres_template")
    name = external.create_postgres_database(template=template_name)
    try:
        yield TestDatabase("postgres", external.postgres_url_for(name), name)
    finally:
        external.drop_postgres_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    """A fresh, migrated database per module, once on SQLite and once on PostgreSQL."""
    yield from _fresh_database(request.param, request, tmp_path_factory.mktemp(f"db-{request.param}"))


@pytest.fixture(scope="module")
def sqlite_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    yield from _fresh_database("sqlite", request, tmp_path_factory.mktemp("db-sqlite"))


@pytest.fixture(scope="module")
def postgres_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    external.require_postgres()
    yield from _fresh_database("postgres", request, tmp_path_factory.mktemp("db-postgres"))


def settings_env(database: TestDatabase, data_dir: Path, secret_key: str, broker: str = "filesystem") -> dict[str, str]:
    env = {
        "TKM_DATA_DIR": str(data_dir),
        "TKM_DATABASE_URL": database.url,
        "TKM_SECRET_KEY": secret_key,
        "TKM_LEDGER_KEY": ledger_key_for(secret_key),
        "TKM_QUEUE": f"tkm-test-{secrets.token_hex(4)}",
        # A test installation is a development one on either database (PostgreSQL alone would mean production,
        # which refuses to start without a signing certificate); production starts are tested on their own.
        "TKM_ENV": "development",
    }
    if broker == "redis":
        external.require_redis()
        env["TKM_BROKER_URL"] = external.REDIS_URL
    return env


BROKERS = ("filesystem", "redis")


@pytest.fixture(scope="module")
def broker(request: pytest.FixtureRequest) -> str:
    """The module's Celery broker: the filesystem one, or each of ``BROKERS`` in a module marked ``every_broker``."""
    return str(getattr(request, "param", "filesystem"))


#: ``pytestmark = every_broker``: every test of the module runs once per broker (a fresh installation each).
every_broker = pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def env(
    database: TestDatabase, tmp_path_factory: pytest.TempPathFactory, secret_key: str, broker: str
) -> dict[str, str]:
    """The TKM_* variables of this module's installation (its database and broker)."""
    return settings_env(database, tmp_path_factory.mktemp(f"data-{broker}"), secret_key, broker=broker)


def apply_env(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch | None = None) -> Any:
    """Make ``environment`` the process-wide settings (database engine, Celery client)."""
    import os

    from tkm import worker
    from tkm.core import db
    from tkm.core.settings import load_settings, reset_settings

    for key in [k for k in os.environ if k.startswith("TKM_") and not k.startswith("TKM_TEST_")]:
        del os.environ[key]
    os.environ.update(environment)
    settings = load_settings()
    reset_settings(settings)
    db.configure(settings)
    worker.reconfigure(settings)
    return settings


@pytest.fixture(scope="module")
def settings(env: dict[str, str]) -> Any:
    return apply_env(env)


@pytest.fixture(scope="module")
def app(settings: Any) -> Any:
    from tkm.app import create_app

    return create_app(settings)


@pytest.fixture(scope="module")
def module_client(app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def client(module_client: Any) -> Any:
    module_client.cookies.clear()
    module_client.headers.pop("Authorization", None)
    return module_client


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def server(env: dict[str, str], settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real ``tkm serve`` on this module's installation (stopped after the module)."""
    proc, url = processes.start_server(env, tmp_path_factory.mktemp("web-logs"))
    try:
        yield url
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    path = ARTIFACTS / Path(str(request.node.name)).stem
    path.mkdir(parents=True, exist_ok=True)
    return path


#: The longest modules, started first: with ``--dist loadfile`` each worker takes whole modules in collection
#: order, so the rest of the suite fills in around them instead of waiting behind them at the end.
LONGEST_FIRST = ("test_money_stateful.py", "test_money_stateful_postgres.py", "test_schemathesis.py", "test_tamper.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("database") == "postgres":
            item.add_marker(pytest.mark.postgres)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"python: {sys.version.split()[0]}",
        f"postgres: {external.POSTGRES_URL}  redis: {external.REDIS_URL}",
        f"services required: {external.REQUIRE_SERVICES}",
    ]
