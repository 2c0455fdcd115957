"""The problem responses of every operation in ``/schema/openapi.json``, declared once.

``ProblemResponses`` (an app plugin) adds ``application/problem+json`` responses to each route handler
as it is registered, from what the handler is: every operation may answer 400 and 500; one behind the
log-in 401 and 403; one with path parameters 404; one that changes something 403, 409 and 413; one
that reads ``If-Match`` 412; one that takes a multipart upload 415; one with any input 422. A handler
adds statuses of its own with ``opt={"problems": (415,)}``; responses it declares itself win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from tkm.core.problem_handlers import PROBLEM_MEDIA_TYPE
from tkm.core.schemas import ProblemOut

DESCRIPTIONS = {
    400: "Bad request: the body is not valid JSON or a parameter has the wrong type (`errors` names it)",
    401: "Not logged in (no or an expired session or bearer token)",
    403: "Your role may not do this, or the form's CSRF token is missing",
    404: "Not found, or not yours to see",
    409: "Conflict with the record's state (wrong state, duplicate, condition not met)",
    412: "If-Match names a version older than the record's (`current_version` is the one to send)",
    413: "Upload or body too large",
    415: "File type or format refused",
    422: "Invalid input (`errors` names each field at fault)",
    429: "Too many attempts; wait as `Retry-After` says",
    500: "Internal error (logged; no details are given)",
}
#: Parameters that are not the client's input.
NOT_INPUT = frozenset({"self", "request", "user", "state", "scope"})


def problem_spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemOut,
        description=DESCRIPTIONS[status],
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


def _takes_multipart(handler: Any) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    kwarg = getattr(data, "kwarg_definition", None) if data is not None else None
    return getattr(kwarg, "media_type", None) == RequestEncodingType.MULTI_PART


def problem_statuses(route: HTTPRoute, handler: Any) -> set[int]:
    # 422 everywhere: a control character in any header is refused (tkm.core.inputs).
    statuses = {400, 422, 500, *handler.opt.get("problems", ())}
    parameters = set(handler.parsed_fn_signature.parameters) - NOT_INPUT
    changes = bool(set(handler.http_methods) - {"GET", "HEAD", "OPTIONS"})
    if "user" in handler.resolve_dependencies() or handler.resolve_guards():
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)
    if changes:
        statuses |= {403, 409, 413}
    if "if_match" in parameters:
        statuses.add(412)
    if _takes_multipart(handler):
        statuses.add(415)
    if parameters or changes:
        statuses.add(422)
    return statuses


class ProblemResponses(ReceiveRoutePlugin):
    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            declared = dict(handler.responses or {})
            problems = {s: problem_spec(s) for s in sorted(problem_statuses(route, handler)) if s not in declared}
            handler.responses = {**problems, **declared}


def downloads(*media_types: str, status: int = 200) -> type[Operation]:
    """An operation class (``operation_class=``) whose ``status`` response also lists file downloads,
    e.g. the CSV a handler sends for ``?format=csv`` besides its JSON."""

    @dataclass
    class WithDownloads(Operation):
        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status))
            if not isinstance(response, OpenAPIResponse):
                return
            content = dict(response.content or {})
            for media_type in media_types:
                schema = Schema(type=OpenAPIType.STRING, content_media_type=media_type)
                content.setdefault(media_type, OpenAPIMediaType(schema=schema))
            response.content = content

    return WithDownloads
