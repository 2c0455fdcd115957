"""PAdES signatures: every PDF TKM issues is signed by its office, and verified offline.

Where an office's certificate comes from, first match wins:

1. its own PKCS#12, loaded by an admin (``PUT /api/v1/offices/{code}/certificate``): kept under
   ``TKM_DATA_DIR/signing/offices/<CODE>/`` as the original file plus ``current.json`` whose password is
   encrypted with a key derived from ``TKM_SECRET_KEY`` (files, not the database: the worker and the start-up
   check read them without a query, and neither key nor password ends up in database backups);
2. the installation's ``TKM_SIGNING_P12`` / ``TKM_SIGNING_PASSWORD``;
3. in development only, a self-signed certificate made once per office under ``TKM_DATA_DIR/signing/dev``;
   letters signed with it say it is a development signature.

Every certificate an office ever signed with is also kept as PEM under ``signing/trusted/<CODE>/``: those are
the trust roots its letters are validated against, so a letter signed before a certificate was replaced still
validates. Signatures are PAdES B-B (no timestamp server: offline).

The signer is a small protocol (``Signer``); ``LocalSigner`` (PKCS#12) is the one built in. ``TKM_SIGNER =
module:factory`` plugs in another, e.g. one that sends the document to BSrE's signing service (README).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tkm.core.settings import Settings, SettingsError, get_settings

log = structlog.get_logger(__name__)

FIELD_NAME = "TKM"
#: A development certificate is valid this long (days); a new one is made when it has run out.
DEV_VALIDITY_DAYS = 3650
MAX_P12_BYTES = 256 * 1024
#: Room kept for the signature (CMS with a certificate chain of a few certificates).
SIGNATURE_BYTES = 10 * 1024
#: The organisational unit of development certificates: how a verification tells them apart.
DEV_UNIT = "TKM development signature"


class SigningError(RuntimeError):
    """A letter cannot be signed (no certificate, an expired one, a password that no longer decrypts)."""


class CertificateProblem(ValueError):
    """A PKCS#12 that cannot sign: ``field`` is ``file`` or ``password``; ``reason`` a code for the message."""

    def __init__(self, field: str, message: str, reason: str = "", when: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.when = when


@dataclass(frozen=True)
class SigningOffice:
    """The office a document is signed for (its code and name, as on the letter)."""

    code: str
    name: str


@runtime_checkable
class Signer(Protocol):
    """What signs TKM's PDFs. ``sign`` returns the signed file (an incremental update of ``pdf``)."""

    def sign(self, pdf: bytes, office: SigningOffice) -> bytes: ...

    def development(self, office: SigningOffice) -> bool:
        """True when ``office``'s letters are signed with a development certificate (the letter says so)."""
        ...

    def trust_roots(self, office: SigningOffice) -> list[asn1_x509.Certificate]:
        """The certificates (or their CAs) ``office``'s letters validate against."""
        ...


# --- keys and files -------------------------------------------------------------------------------------------


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(settings.secret_key, b"tkm office certificate password")))


def _dev_password(settings: Settings) -> bytes:
    return base64.urlsafe_b64encode(_derive(settings.secret_key, b"tkm development certificate"))


def signing_dir(settings: Settings) -> Path:
    return settings.data_dir / "signing"


def _safe_code(code: str) -> str:
    cleaned = "".join(c for c in code if c.isalnum() or c in "-_")
    if not cleaned or cleaned != code:
        raise ValueError(f"office code {code!r} cannot name a folder")
    return cleaned


def _office_dir(settings: Settings, code: str) -> Path:
    return signing_dir(settings) / "offices" / _safe_code(code)


def _write_aside(final: Path, content: bytes) -> Path:
    """Write ``content`` whole to a file beside ``final`` (mode 600); the caller links or renames it in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    draft = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    return draft


def _place(final: Path, content: bytes, *, replace: bool) -> bool:
    """Put ``content`` at ``final`` atomically. Without ``replace`` the first writer wins (link); returns whether
    this call's content is the one in place."""
    draft = _write_aside(final, content)
    try:
        if replace:
            os.replace(draft, final)
            return True
        try:
            os.link(draft, final)
            return True
        except FileExistsError:
            return False
    finally:
        draft.unlink(missing_ok=True)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _common_name(cert: x509.Certificate) -> str:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        names = cert.subject.get_attributes_for_oid(oid)
        if names:
            return str(names[0].value)
    return cert.subject.rfc4514_string()


def validity_problem(cert: x509.Certificate, now: dt.datetime | None = None) -> str | None:
    """Why ``cert`` cannot sign now (expired, not yet valid), or None."""
    now = now or dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc:
        return f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if now > cert.not_valid_after_utc:
        return f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


@dataclass(frozen=True)
class Loaded:
    """A PKCS#12 opened: its key, certificate and the CA certificates it carries."""

    key: Any
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def open_p12(content: bytes, password: str | bytes) -> Loaded:
    """Open a PKCS#12 or say what is wrong with it (``CertificateProblem`` naming ``file`` or ``password``)."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    if not content or len(content) > MAX_P12_BYTES:
        raise CertificateProblem("file", "the certificate file is empty or too large for a PKCS#12 (.p12) file", "size")
    try:
        asn1_pkcs12.Pfx.load(content).native  # noqa: B018 (parses the whole structure)
    except Exception:
        raise CertificateProblem("file", "the file is not a PKCS#12 (.p12 / .pfx) certificate file", "format") from None
    secret = password.encode() if isinstance(password, str) else password
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(content, secret or None)
    except Exception:
        raise CertificateProblem("password", "the password does not open this certificate file", "password") from None
    if key is None or cert is None:
        raise CertificateProblem("file", "the file must hold a private key and its certificate", "no_key")
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise CertificateProblem("file", "the private key in the file does not belong to its certificate", "mismatch")
    return Loaded(key, cert, tuple(chain or ()))


def describe(cert: x509.Certificate, *, development: bool = False) -> dict[str, Any]:
    return {
        "subject": _common_name(cert),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": fingerprint(cert),
        "development": development,
    }


def _trust(settings: Settings, code: str, certs: Iterable[x509.Certificate]) -> None:
    """Keep every certificate an office signs with as one of its trust roots (first writer wins)."""
    folder = signing_dir(settings) / "trusted" / _safe_code(code)
    for cert in certs:
        path = folder / f"{fingerprint(cert)}.pem"
        if not path.exists():
            _place(path, cert.public_bytes(serialization.Encoding.PEM), replace=False)


def trusted_certificates(settings: Settings, code: str) -> list[x509.Certificate]:
    folder = signing_dir(settings) / "trusted" / _safe_code(code)
    if not folder.is_dir():
        return []
    return [x509.load_pem_x509_certificate(p.read_bytes()) for p in sorted(folder.glob("*.pem"))]


# --- the development certificate ------------------------------------------------------------------------------


def self_signed_p12(
    subject: x509.Name, friendly_name: str, password: bytes, not_before: dt.datetime, not_after: dt.datetime
) -> bytes:
    """A new key and a self-signed signing certificate for ``subject``, as PKCS#12 (development and tests)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), key, cert, None, serialization.BestAvailableEncryption(password)
    )


def _make_dev_p12(office: SigningOffice, password: bytes) -> bytes:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, office.name[:64] or office.code),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, (office.name or office.code)[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_UNIT),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    return self_signed_p12(
        name, f"TKM {office.code}", password, now - dt.timedelta(minutes=5), now + dt.timedelta(days=DEV_VALIDITY_DAYS)
    )


def dev_certificate_path(settings: Settings, code: str) -> Path:
    return signing_dir(settings) / "dev" / f"{_safe_code(code)}.p12"


def ensure_dev_certificate(settings: Settings, office: SigningOffice) -> Path:
    """The office's development PKCS#12, made once. Processes racing on a new data dir each write theirs aside and
    link it into place; the first link wins and everyone uses that one."""
    path = dev_certificate_path(settings, office.code)
    if path.exists():
        return path
    created = _place(path, _make_dev_p12(office, _dev_password(settings)), replace=False)
    if created:
        log.info("signing.dev_certificate_created", office=office.code, path=str(path))
    return path


# --- the local PKCS#12 signer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where an office's current certificate is: a file, its password and whether it is a development one."""

    path: Path
    password: bytes
    development: bool

    @property
    def key(self) -> tuple[str, int, int]:
        stat = self.path.stat()
        return (str(self.path), stat.st_mtime_ns, stat.st_size)


def office_record(settings: Settings, code: str) -> dict[str, Any] | None:
    """The office's own certificate (``current.json``), or None."""
    path = _office_dir(settings, code) / "current.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def source_for(settings: Settings, office: SigningOffice) -> Source:
    record = office_record(settings, office.code)
    if record is not None:
        try:
            password = _fernet(settings).decrypt(record["password"].encode())
        except InvalidToken:
            raise SigningError(
                f"office {office.code}: its certificate's password cannot be decrypted with this TKM_SECRET_KEY; "
                "load the certificate again"
            ) from None
        return Source(_office_dir(settings, office.code) / record["file"], password, False)
    if settings.signing_p12 is not None:
        return Source(settings.signing_p12, settings.signing_password.encode(), False)
    if settings.is_production:
        raise SigningError(
            f"office {office.code} has no signing certificate: set TKM_SIGNING_P12 and TKM_SIGNING_PASSWORD, "
            "or load the office's own certificate"
        )
    return Source(ensure_dev_certificate(settings, office), _dev_password(settings), True)


class LocalSigner:
    """Signs with the office's PKCS#12 (its own, the installation's, or the development one), PAdES B-B."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._cache: dict[tuple[str, int, int], tuple[Any, Loaded]] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def _load(self, office: SigningOffice) -> tuple[Any, Loaded, Source]:
        from pyhanko.sign import signers

        source = source_for(self.settings, office)
        key = source.key
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            content = source.path.read_bytes()
            try:
                loaded = open_p12(content, source.password)
            except CertificateProblem as exc:
                raise SigningError(f"office {office.code}: {source.path}: {exc}") from None
            simple = signers.SimpleSigner.load_pkcs12_data(content, other_certs=[], passphrase=source.password)
            _trust(self.settings, office.code, [loaded.cert])
            cached = (simple, loaded)
            with self._lock:
                self._cache[key] = cached
        return cached[0], cached[1], source

    def development(self, office: SigningOffice) -> bool:
        return source_for(self.settings, office).development

    def sign(self, pdf: bytes, office: SigningOffice) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        simple, loaded, _source = self._load(office)
        problem = validity_problem(loaded.cert)
        if problem:
            raise SigningError(f"office {office.code}: {problem}")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            name=office.name or None,
            reason="Dokumen resmi TKM",
        )
        # A fixed room for the CMS blob spares pyHanko a dummy signature to size it (half the cost).
        out = signers.sign_pdf(writer, meta, signer=simple, bytes_reserved=SIGNATURE_BYTES)
        return out.getvalue()

    def trust_roots(self, office: SigningOffice) -> list[asn1_x509.Certificate]:
        return [_to_asn1(c) for c in trusted_certificates(self.settings, office.code)]


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


_signer: Signer | None = None
_signer_lock = threading.Lock()


def load_signer(settings: Settings) -> Signer:
    """``TKM_SIGNER`` (``module:factory``, called with the settings) or the built-in PKCS#12 signer."""
    if not settings.signer:
        return LocalSigner()
    from tkm.core.domain import resolve

    try:
        made = resolve(settings.signer)(settings)
    except Exception as exc:
        raise SettingsError(f"TKM_SIGNER {settings.signer!r} cannot be loaded: {exc}") from None
    if not isinstance(made, Signer):
        raise SettingsError(f"TKM_SIGNER {settings.signer!r} does not make a signer (sign, development, trust_roots)")
    return made


def get_signer() -> Signer:
    global _signer
    with _signer_lock:
        if _signer is None:
            _signer = load_signer(get_settings())
        return _signer


def reset_signer(signer: Signer | None = None) -> None:
    global _signer
    with _signer_lock:
        _signer = signer


# --- an office's own certificate ----------------------------------------------------------------------------


def store_office_certificate(settings: Settings, code: str, content: bytes, password: str) -> dict[str, Any]:
    """Check a PKCS#12 (opens with ``password``, valid now) and make it the office's; nothing is kept on error."""
    loaded = open_p12(content, password)
    problem = validity_problem(loaded.cert)
    if problem:
        now = dt.datetime.now(dt.UTC)
        early = now < loaded.cert.not_valid_before_utc
        raise CertificateProblem(
            "file",
            problem,
            "not_yet_valid" if early else "expired",
            loaded.cert.not_valid_before_utc if early else loaded.cert.not_valid_after_utc,
        )
    folder = _office_dir(settings, code)
    digest = hashlib.sha256(content).hexdigest()
    name = f"{digest[:32]}.p12"
    if not (folder / name).exists():
        _place(folder / name, content, replace=False)
    info = describe(loaded.cert)
    record = {
        "file": name,
        "password": _fernet(settings).encrypt(password.encode()).decode(),
        "loaded_at": dt.datetime.now(dt.UTC).isoformat(),
        **info,
    }
    _trust(settings, code, [loaded.cert, *loaded.chain])
    _place(folder / "current.json", json.dumps(record, indent=2).encode(), replace=True)
    log.info("signing.office_certificate_loaded", office=code, sha256=info["sha256"], not_after=info["not_after"])
    return info


def certificate_info(settings: Settings, office: SigningOffice) -> dict[str, Any] | None:
    """What the office signs with now (its own, the installation's, or the development one), or None."""
    try:
        source = source_for(settings, office)
    except SigningError:
        return None
    if source.development and not source.path.exists():
        return None
    try:
        loaded = open_p12(source.path.read_bytes(), source.password)
    except (CertificateProblem, OSError):
        return None
    return {
        **describe(loaded.cert, development=source.development),
        "own": office_record(settings, office.code) is not None,
    }


# --- start-up -------------------------------------------------------------------------------------------------


def _check_file(label: str, path: Path, password: bytes) -> None:
    try:
        loaded = open_p12(path.read_bytes(), password)
    except OSError as exc:
        raise SettingsError(f"{label} {path} cannot be read: {exc.strerror}") from None
    except CertificateProblem as exc:
        raise SettingsError(f"{label} {path}: {exc}") from None
    problem = validity_problem(loaded.cert)
    if problem:
        raise SettingsError(f"{label} {path}: {problem}; letters cannot be signed")


def startup(settings: Settings) -> None:
    """A production start needs a certificate that opens and is valid now; one line says what is wrong."""
    signer = load_signer(settings)
    if settings.signer or not settings.is_production:
        return
    if not isinstance(signer, LocalSigner):  # pragma: no cover - load_signer makes a LocalSigner here
        return
    offices_dir = signing_dir(settings) / "offices"
    own = sorted(offices_dir.glob("*/current.json")) if offices_dir.is_dir() else []
    if settings.signing_p12 is None and not own:
        raise SettingsError(
            "TKM_SIGNING_P12 is not set and no office has loaded its own certificate: production letters must be "
            "signed (set TKM_SIGNING_P12 and TKM_SIGNING_PASSWORD)"
        )
    if settings.signing_p12 is not None:
        _check_file("TKM_SIGNING_P12", settings.signing_p12, settings.signing_password.encode())
    for record_path in own:
        code = record_path.parent.name
        try:
            source = source_for(settings, SigningOffice(code, code))
        except SigningError as exc:
            raise SettingsError(str(exc)) from None
        _check_file(f"the certificate of office {code}", source.path, source.password)


# --- verifying ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    signer: str | None
    signed_at: str | None
    #: Why it is not valid (for logs and the page), empty when valid.
    problem: str = ""
    #: Made with a TKM development certificate (not an official signature).
    development: bool = False

    def out(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "signer": self.signer,
            "signed_at": self.signed_at,
            "development": self.development,
        }


def _signer_name(cert: asn1_x509.Certificate) -> str:
    subject = cert.subject.native
    return str(subject.get("common_name") or subject.get("organization_name") or cert.subject.human_friendly)


async def check_signature(
    pdf: bytes, office: SigningOffice, *, moment: dt.datetime | None = None, signer: Signer | None = None
) -> SignatureCheck:
    """Validate the file's signature offline against the office's certificates as trust roots.

    Valid means: the signed bytes are intact, the signature is good, the certificate chains to one of the
    office's, and the signature covers the whole file (nothing was appended after signing). ``moment`` is
    when the letter was signed by TKM's record (the register's own time, not the file's claim), so a letter
    stays valid after its certificate expires.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import pdf_embedded
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:
        return SignatureCheck(False, None, None, f"the file cannot be read as a PDF: {type(exc).__name__}")
    if not embedded:
        return SignatureCheck(False, None, None, "the file has no signature")
    sig = embedded[-1]
    roots = (signer or get_signer()).trust_roots(office)
    development = False
    try:
        signer_cert = sig.signer_cert
        name = _signer_name(signer_cert)
        development = signer_cert.subject.native.get("organizational_unit_name") == DEV_UNIT
    except Exception:
        name = None
    if not roots:
        return SignatureCheck(False, name, None, f"office {office.code} has no certificate to check against")
    context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=moment)
    try:
        status = await pdf_embedded.async_validate_pdf_signature(sig, context)
    except Exception as exc:
        return SignatureCheck(False, name, None, f"the signature cannot be checked: {type(exc).__name__}: {exc}")
    signed_at = status.signer_reported_dt.astimezone(dt.UTC).isoformat() if status.signer_reported_dt else None
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    valid = bool(status.intact and status.valid and status.trusted and whole)
    problem = ""
    if not valid:
        problem = (
            "the signed content was changed"
            if not status.intact
            else "the signature is not good"
            if not status.valid
            else "the certificate is not the office's"
            if not status.trusted
            else "something was added to the file after it was signed"
        )
    return SignatureCheck(valid, name, signed_at, problem, development)
