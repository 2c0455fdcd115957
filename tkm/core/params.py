"""Request parameters shared by many routes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import HeaderParameter

from tkm.core.errors import BadRequest, FieldError, ValidationProblem
from tkm.core.i18n import _

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


async def optional_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body of an action whose fields are all optional: a JSON object, or nothing at all (``{}``)."""
    if not (await request.body()).strip():
        return {}
    try:
        body = await request.json()
    except Exception:
        message = _("The request body is not valid JSON.")
        raise BadRequest(message, errors=[FieldError("body", message)]) from None
    if not isinstance(body, dict):
        raise ValidationProblem([FieldError("body", _("Send a JSON object."))])
    return body
