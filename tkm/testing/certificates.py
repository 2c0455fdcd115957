"""PKCS#12 files for tests: a self-signed signing certificate valid (or not) when you say."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def make_p12(
    common_name: str,
    password: str,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> bytes:
    """A self-signed certificate and its key as PKCS#12 (valid from a day ago for a year unless told)."""
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        common_name.encode(), key, cert, None, serialization.BestAvailableEncryption(password.encode())
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
