"""Page parameters and the list envelope ``{"items", "page", "per_page", "total"}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import _

MAX_PER_PAGE = 200
#: Far beyond any list here, and small enough that the offset stays a 64-bit integer in every database.
MAX_PAGE = 1_000_000
DEFAULT_PER_PAGE = 50


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def envelope(self, items: list[Any], total: int) -> dict[str, Any]:
        return {"items": items, "page": self.page, "per_page": self.per_page, "total": total}


def page_params(page: int | None, per_page: int | None) -> PageParams:
    errors = []
    page = 1 if page is None else page
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if not 1 <= page <= MAX_PAGE:
        errors.append(FieldError("page", _("page must be between 1 and %(max)d.", max=MAX_PAGE)))
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors.append(FieldError("per_page", _("per_page must be between 1 and %(max)d.", max=MAX_PER_PAGE)))
    if errors:
        raise ValidationProblem(errors)
    return PageParams(page, per_page)
