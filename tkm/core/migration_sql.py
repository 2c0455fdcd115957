"""Raw SQL steps for migrations (indexes, constraints, triggers), per engine when they differ."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tkm.core import db


def raw(
    both: list[str] | None = None, *, sqlite: list[str] | None = None, postgres: list[str] | None = None
) -> Callable[[], Awaitable[None]]:
    """A ``manager.add_raw`` step that runs ``both`` everywhere, then the engine's own statements."""

    async def step() -> None:
        statements = list(both or []) + list((sqlite if db.is_sqlite() else postgres) or [])
        for statement in statements:
            await db.execute(statement)

    return step
