"""Turn every error into RFC 9457 problem details (or an HTML error page for browser pages)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tkm.core import audit
from tkm.core.errors import FieldError, Problem
from tkm.core.i18n import N_, _

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_MSGSPEC_PATH = re.compile(r"- at `\$\.?(?P<path>[^`]*)`")
_MSGSPEC_FIELD = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")
_TITLES = {
    400: N_("Bad request"),
    401: N_("Not logged in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    412: N_("Version mismatch"),
    413: N_("Upload too large"),
    415: N_("File type refused"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
    500: N_("Internal error"),
    503: N_("Service unavailable"),
}


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith("/api/") or request.url.path.startswith("/schema"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.headers.get("hx-request")


_TYPE_WORDS = {
    "int": N_("a whole number"),
    "str": N_("text"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "object": N_("an object"),
    "array": N_("a list"),
    "null": N_("nothing (null)"),
}
_EXPECTED_GOT = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_LENGTH = re.compile(r"^Expected `(?P<kind>[^`]+)` of length (?P<op>[<>]=?) (?P<n>[0-9]+)$")
_BOUND = re.compile(r"^Expected `(?:int|float)(?: \| null)?` (?P<op>[<>]=?) (?P<n>-?[0-9.e+]+)$")


def _words(types: str) -> str:
    names = [t.strip() for t in types.split("|")]
    return " / ".join(_(_TYPE_WORDS[t]) if t in _TYPE_WORDS else _("another kind of value") for t in names)


def _plain(message: str) -> str:
    """msgspec's messages name Python and JSON types (``Expected `int`, got `str` ``): say it for people."""
    if match := _EXPECTED_GOT.match(message):
        return _("Expected %(expected)s, got %(got)s.", expected=_words(match["expected"]), got=_words(match["got"]))
    if match := _LENGTH.match(message):
        many = match["kind"] in ("array", "object")
        if match["op"].startswith("<"):
            return _("At most %(n)s items.", n=match["n"]) if many else _("At most %(n)s characters.", n=match["n"])
        return _("At least %(n)s items.", n=match["n"]) if many else _("At least %(n)s characters.", n=match["n"])
    if match := _BOUND.match(message):
        return _("Must be %(op)s %(n)s.", op=match["op"].replace("<=", "≤").replace(">=", "≥"), n=match["n"])
    if message.startswith("Object missing required field"):
        return _("Required.")
    if message.startswith("Object contains unknown field"):
        return _("Not a known field.")
    if message.startswith("Invalid enum value"):
        return _("Choose one of the allowed values.")
    if "matching regex" in message:
        return _("Not in the expected form.")
    if message.startswith("JSON is malformed") or message.startswith("Input data was truncated"):
        return _("The request body is not valid JSON.")
    return _("This value is not valid.")


def _field_errors(exc: ValidationException) -> list[FieldError]:
    """Name the field in msgspec's messages: "Expected `int`, got `str` - at `$.members[0].nik`"."""
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "")
        if key in ("data", "body"):
            key = ""
        match = _MSGSPEC_PATH.search(message)
        path = match.group("path") if match else ""
        message = _MSGSPEC_PATH.sub("", message).strip(" -")
        named = _MSGSPEC_FIELD.search(message)
        parts = [p for p in (key, path, named.group("name") if named else "") if p]
        field = ".".join(parts).replace(".[", "[") or "body"
        errors.append(FieldError(field, _plain(message)))
    return errors


def to_problem(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or _("The request body is not valid JSON.")
        problem = Problem(detail, title=_TITLES[400], errors=errors, status=400)
        problem.slug = "invalid-request"
        return problem
    if isinstance(exc, HTTPException) and exc.status_code == 400:
        reason = exc.detail or "unreadable"
        problem = Problem(
            _("The request body could not be read: %(reason)s.", reason=reason),
            title=_TITLES[400],
            status=400,
            errors=[FieldError("body", reason)],
        )
        problem.slug = "invalid-request"
        return problem
    if isinstance(exc, HTTPException):
        status = exc.status_code
        # Litestar's default detail is the English status phrase ("Not Found"): say it in the user's language.
        default = {_TITLES.get(status, "").lower(), _status_phrase(status).lower()}
        detail = exc.detail if exc.detail and exc.detail.lower() not in default else ""
        if isinstance(exc, PermissionDeniedException) and "CSRF" in (exc.detail or ""):
            detail = _("The form's security token is missing or wrong. Reload the page and try again.")
        problem = Problem(
            detail or _(_TITLES.get(status, "Error")),
            title=_TITLES.get(status, "Error"),
            status=status,
            headers=dict(exc.headers or {}),
        )
        problem.slug = {
            401: "not-authenticated",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            413: "too-large",
            415: "unsupported-type",
        }.get(status, "http-error")
        return problem
    problem = Problem(
        _("Something went wrong on our side. It has been logged; please try again later."),
        title=_TITLES[500],
        status=500,
    )
    problem.slug = "internal-error"
    return problem


PROBLEM_SCOPE_KEY = "tkm_problem"


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    problem = to_problem(exc)
    if problem.status >= 500:
        log.error("request.failed", method=request.method, path=request.url.path, exc_info=exc)
    # Litestar calls handlers synchronously; AuditDenialsMiddleware writes the audit event.
    request.scope[PROBLEM_SCOPE_KEY] = (problem, bool(getattr(exc, "audit_denied", False)))  # type: ignore[literal-required]
    if _wants_html(request):
        return Template(
            template_name="error.html",
            context={"problem": problem, "status": problem.status},
            status_code=problem.status,
            headers=problem.headers,
            media_type=MediaType.HTML,
        )  # type: ignore[return-value]
    return Response(
        content=problem.body(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


class AuditDenialsMiddleware:
    """Writes an audit event for every refused request (401, 403, and 404s that hide someone else's record)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_holder: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:  # raised by a middleware (e.g. CSRF) before any handler ran
            problem = to_problem(exc)
            if problem.status in (401, 403):
                await self._record(scope, problem.status, problem)
            raise
        status = status_holder.get("status", 0)
        problem, hidden = scope.get(PROBLEM_SCOPE_KEY, (None, False))  # type: ignore[misc]
        if problem is not None and problem.already_audited:
            return
        if status in (401, 403) or hidden:
            await self._record(scope, status, problem)

    async def _record(self, scope: Scope, status: int, problem: Problem | None) -> None:
        user = scope.get("user")
        client = scope.get("client")
        try:
            await audit.record(
                "access.denied",
                actor_id=getattr(user, "id", None),
                actor=getattr(user, "email", ""),
                object_type="route",
                object_id=f"{scope.get('method', '')} {scope.get('path', '')}"[:100],
                address=client[0] if client else "",
                details={"status": status, "reason": (problem.detail if problem else "")[:300]},
            )
        except Exception:  # auditing must never turn a refusal into a 500
            log.exception("audit.denial_failed")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    Problem: handle_exception,
    HTTPException: handle_exception,
    NotAuthorizedException: handle_exception,
    NotFoundException: handle_exception,
    Exception: handle_exception,
}
