"""An office's own signing certificate: loaded by an admin as PKCS#12 + password, checked before anything is kept."""

from __future__ import annotations

from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.core import audit, db, money
from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import _
from tkm.core.settings import get_settings
from tkm.documents import offices, signing


def _message(problem: signing.CertificateProblem) -> str:
    when = money.long_date(problem.when.date()) if problem.when else ""
    messages = {
        "size": _("Choose a PKCS#12 certificate file (.p12 or .pfx) of at most 256 KB."),
        "format": _("This is not a PKCS#12 certificate file (.p12 or .pfx)."),
        "password": _("The password does not open this certificate file."),
        "no_key": _("The certificate file must hold the private key and its certificate."),
        "mismatch": _("The private key in the file does not belong to its certificate."),
        "expired": _("The certificate expired on %(date)s.", date=when),
        "not_yet_valid": _("The certificate is not valid before %(date)s.", date=when),
    }
    return messages.get(problem.reason, str(problem))


def _office(row: dict[str, Any]) -> signing.SigningOffice:
    return signing.SigningOffice(row["code"], row["name"])


async def certificate(code: str) -> dict[str, Any]:
    """What an office signs with now: its own certificate, the installation's, or the development one."""
    row = await offices.get_office(code)
    info = signing.certificate_info(get_settings(), _office(row))
    return {"office": row["code"], "certificate": info}


async def load_certificate(actor: CurrentUser | None, code: str, content: bytes, password: str) -> dict[str, Any]:
    """Make ``content`` (PKCS#12) the office's signing certificate; 422 naming ``file`` or ``password`` otherwise.

    ``actor`` None: the command line (``tkm office-certificate``), e.g. before a first production start.
    """
    row = await offices.get_office(code)
    try:
        info = signing.store_office_certificate(get_settings(), row["code"], content, password)
    except signing.CertificateProblem as problem:
        raise ValidationProblem([FieldError(problem.field, _message(problem))]) from None
    async with db.transaction():
        await audit.record(
            "office.certificate_loaded",
            actor_id=actor.id if actor else None,
            actor=actor.email if actor else "tkm office-certificate",
            object_type="office",
            object_id=row["code"],
            details={k: info[k] for k in ("subject", "issuer", "serial", "not_after", "sha256")},
        )
    return {"office": row["code"], "certificate": {**info, "own": True}}
