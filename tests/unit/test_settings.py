import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tkm.core.settings import SettingsError, load_settings


def test_embedded_defaults_live_in_the_data_dir(tmp_path):
    s = load_settings({"TKM_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'tkm.sqlite3'}"
    assert s.database_kind == "sqlite" and s.broker_kind == "filesystem"
    assert s.result_backend == f"file://{tmp_path / 'broker' / 'results'}"
    assert s.environment == "development"
    # a development key is generated once and reused, so sessions survive restarts
    assert len(s.secret_key) >= 32
    assert load_settings({"TKM_DATA_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_production_is_selected_by_the_variables(tmp_path):
    secret = "x" * 40
    s = load_settings(
        {
            "TKM_DATA_DIR": str(tmp_path),
            "TKM_DATABASE_URL": "postgresql://u@db:5432/tkm",
            "TKM_BROKER_URL": "redis://redis:6379/0",
            "TKM_SECRET_KEY": secret,
            "TKM_LEDGER_KEY": "l" * 40,
        }
    )
    assert s.is_production and s.database_kind == "postgres" and s.broker_kind == "redis"
    assert s.result_backend == "redis://redis:6379/0"
    assert s.session_redis_url == "redis://redis:6379/0"


@pytest.mark.parametrize("secret", [None, "", "change-me", "short-secret"])
def test_production_refuses_default_or_weak_secret(tmp_path, secret):
    env = {"TKM_DATA_DIR": str(tmp_path), "TKM_DATABASE_URL": "postgresql://u@db:5432/tkm"}
    if secret is not None:
        env["TKM_SECRET_KEY"] = secret
    with pytest.raises(SettingsError, match="TKM_SECRET_KEY"):
        load_settings(env)


@pytest.mark.parametrize("key", [None, "", "change-me", "short-key", "x" * 40])
def test_production_refuses_a_missing_weak_or_reused_ledger_key(tmp_path, key):
    """The chains' key is a secret of its own; production does not start without one, in one line."""
    env = {"TKM_DATA_DIR": str(tmp_path), "TKM_DATABASE_URL": "postgresql://u@db:5432/tkm", "TKM_SECRET_KEY": "x" * 40}
    if key is not None:
        env["TKM_LEDGER_KEY"] = key
    with pytest.raises(SettingsError, match="TKM_LEDGER_KEY") as refused:
        load_settings(env)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "ledger_key").exists()


def test_development_makes_one_ledger_key_in_the_data_dir(tmp_path):
    first = load_settings({"TKM_DATA_DIR": str(tmp_path)})
    assert len(first.ledger_key) >= 32 and first.ledger_key != first.secret_key
    assert (tmp_path / "ledger_key").read_text().strip() == first.ledger_key
    assert load_settings({"TKM_DATA_DIR": str(tmp_path)}).ledger_key == first.ledger_key
    given = load_settings({"TKM_DATA_DIR": str(tmp_path), "TKM_LEDGER_KEY": "k" * 40})
    assert given.ledger_key == "k" * 40


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TKM_DATABASE_URL", "mysql://root@localhost/tkm"),
        ("TKM_DATABASE_URL", "postgresql://db:5432/"),
        ("TKM_BROKER_URL", "amqp://guest@localhost//"),
        ("TKM_SMTP_URL", "http://mail"),
        ("TKM_BASE_URL", "ftp://tkm"),
        ("TKM_WORKER_CONCURRENCY", "two"),
        ("TKM_WORKER_CONCURRENCY", "0"),
        ("TKM_ENV", "staging"),
        ("TKM_LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_setting_is_named(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({"TKM_DATA_DIR": str(tmp_path), name: value})


def test_data_dir_that_cannot_be_created_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match="TKM_DATA_DIR"):
        load_settings({"TKM_DATA_DIR": str(blocker / "sub")})


def test_cli_stops_with_one_line_naming_the_setting(tmp_path):
    env = {"TKM_DATA_DIR": str(tmp_path), "TKM_DATABASE_URL": "mysql://x/y", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "tkm", "migrate"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "TKM_DATABASE_URL" in lines[0], result.stderr


def _key_of(directory: str, results: Any) -> None:
    from tkm.core.settings import _dev_secret

    results.put(_dev_secret(Path(directory)))


def test_processes_starting_at_once_on_a_new_data_dir_share_one_whole_key(tmp_path):
    """Web, worker and scheduler may start together: each gets the same, complete key, and no draft is left."""
    import multiprocessing

    results: Any = multiprocessing.Queue()
    starters = [multiprocessing.Process(target=_key_of, args=(str(tmp_path), results)) for _ in range(6)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(30)
    keys = {results.get(timeout=5) for _ in starters}
    assert len(keys) == 1 and len(keys.pop()) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
