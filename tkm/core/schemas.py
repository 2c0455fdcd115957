"""Shared response shapes: the base of every ``...Out`` Struct, the conversion helper, the problem body.

Services return plain dicts; handlers turn them into their declared Struct with ``out(Type, value)``
at the boundary, so ``/schema/openapi.json`` describes exactly what is sent. Every ``Out`` forbids
keys it does not declare: a service that starts returning a new key fails loudly in the tests (add
the field to the Struct) instead of having it dropped silently from the response. Optional values
are declared ``T | None`` without a default, so ``null`` is always sent, never omitted.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


class Out(msgspec.Struct, forbid_unknown_fields=True):
    """Base of response Structs."""


def out(type_: type[T], value: Any) -> T:
    """``value`` (a service's dict, or a list of them) as the handler's declared response type."""
    return msgspec.convert(value, type_, from_attributes=False)


class FieldErrorOut(msgspec.Struct):
    field: str
    message: str


class ProblemOut(msgspec.Struct):
    """RFC 9457 problem details (``application/problem+json``); ``errors`` names the fields at fault.

    A problem may carry further members (e.g. ``current_version`` on a 412, ``condition`` on a 409)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] = msgspec.field(default_factory=list)


class HealthOut(Out):
    """GET /health."""

    #: ok | error
    database: str
    broker: str
    #: Celery workers that answered a ping
    workers: int
