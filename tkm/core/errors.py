"""RFC 9457 problem details: the one error shape of the API.

Services raise ``Problem`` (or a subclass); handlers never build error
responses themselves. Litestar's own exceptions and anything unexpected are
turned into the same shape by ``tkm.core.problem_handlers``; clients never see
a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tkm.core.i18n import N_


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class Problem(Exception):
    status: int = 400
    slug: str = "bad-request"
    default_title: str = N_("Bad request")
    #: Set when the service already wrote a more specific audit event (e.g. login.failed).
    already_audited: bool = False

    def __init__(
        self,
        detail: str = "",
        *,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title or self.default_title)
        if status is not None:
            self.status = status
        self.title = title or self.default_title
        self.detail = detail or self.title
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    @property
    def type_uri(self) -> str:
        return f"/problems/{self.slug}"

    def body(self) -> dict[str, Any]:
        from tkm.core.i18n import gettext

        data: dict[str, Any] = {
            "type": self.type_uri,
            "title": gettext(self.title),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            data["errors"] = [e.as_dict() for e in self.errors]
        data.update({k: v for k, v in self.extra.items() if k not in data})  # never shadow the RFC 9457 members
        return data


class BadRequest(Problem):
    status = 400
    slug = "bad-request"
    default_title = N_("Bad request")


class ValidationProblem(Problem):
    status = 422
    slug = "validation-error"
    default_title = N_("Invalid input")

    def __init__(self, errors: list[FieldError], detail: str = "", **kwargs: Any) -> None:
        if not detail:
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors) if errors else ""
        super().__init__(detail, errors=errors, **kwargs)


def invalid(field: str, message: str) -> ValidationProblem:
    """A 422 naming one field: ``raise invalid("members[2].nik", "...")``."""
    return ValidationProblem([FieldError(field, message)])


class Unauthorized(Problem):
    status = 401
    slug = "not-authenticated"
    default_title = N_("Not logged in")


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    default_title = N_("Not allowed")


class NotFound(Problem):
    status = 404
    slug = "not-found"
    default_title = N_("Not found")


class NotYours(NotFound):
    """A record exists but the caller may not see it: answered as 404, audited as denied access."""

    audit_denied = True


class Conflict(Problem):
    status = 409
    slug = "conflict"
    default_title = N_("Conflict")


class PreconditionFailed(Problem):
    status = 412
    slug = "stale-version"
    default_title = N_("Version mismatch")


class PayloadTooLarge(Problem):
    status = 413
    slug = "too-large"
    default_title = N_("Upload too large")


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-type"
    default_title = N_("File type refused")


class TooManyRequests(Problem):
    status = 429
    slug = "too-many-attempts"
    default_title = N_("Too many attempts")


class ServiceUnavailable(Problem):
    status = 503
    slug = "unavailable"
    default_title = N_("Service unavailable")
