"""Running async service code from sync places (Celery tasks, the CLI).

Celery tasks are sync; each worker process keeps one event loop and one
database engine (with its own PostgreSQL pool) for its whole life, because an
asyncpg pool bound to one loop breaks on the next.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from tkm.core import db

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    global _loop, _pid
    if _loop is None or _pid != os.getpid():
        _loop = asyncio.new_event_loop()
        _pid = os.getpid()
        db.configure()
        _loop.run_until_complete(db.open_pool())
    return _loop.run_until_complete(coro)


def reset() -> None:
    """Forget the loop (a forked child must build its own)."""
    global _loop, _pid
    _loop = None
    _pid = None
