"""PKCS#12 files for tests: a self-signed signing certificate valid (or not) when you say."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import NameOID


def make_p12(
    common_name: str,
    password: str,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> bytes:
    """A self-signed certificate and its key as PKCS#12 (valid from a day ago for a year unless told)."""
    from tkm.documents.signing import self_signed_p12

    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        ]
    )
    return self_signed_p12(
        name,
        common_name,
        password.encode(),
        not_before or now - dt.timedelta(days=1),
        not_after or now + dt.timedelta(days=365),
    )


def expired_p12(common_name: str, password: str) -> bytes:
    now = dt.datetime.now(dt.UTC)
    return make_p12(
        common_name, password, not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=35)
    )


class CountingSigner:
    """A signer plugged in through ``TKM_SIGNER`` (as a BSrE client would be): here the built-in one, counted."""

    def __init__(self, settings: object) -> None:
        from tkm.documents.signing import LocalSigner

        self.inner = LocalSigner(settings)  # type: ignore[arg-type]
        self.signed = 0

    def sign(self, pdf: bytes, office: object) -> bytes:
        self.signed += 1
        return self.inner.sign(pdf, office)  # type: ignore[arg-type]

    def development(self, office: object) -> bool:
        return self.inner.development(office)  # type: ignore[arg-type]

    def trust_roots(self, office: object) -> list:
        return self.inner.trust_roots(office)  # type: ignore[arg-type]


def make_counting_signer(settings: object) -> CountingSigner:
    return CountingSigner(settings)
