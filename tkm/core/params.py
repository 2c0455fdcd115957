"""Request parameters shared by many routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description='The version you read, e.g. "3"; stale → 412'),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A unique key (e.g. a UUID) per money-moving request; a repeat returns the first result",
    ),
]
