"""Password hashing (argon2id) and the weak-password check."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tkm.core.i18n import N_

# OWASP's minimum argon2id profile: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
MIN_LENGTH = 8
MAX_LENGTH = 256

#: Common in Indonesia and missing from the English-language list below.
LOCAL_COMMON = {
    "bismillah",
    "indonesia",
    "sayangku",
    "rahasia",
    "rahasia123",
    "katasandi",
    "katasandi123",
    "merdeka45",
    "jakarta123",
    "tkm12345",
    "password123",
    "kemnaker",
    "disnaker",
    "qwerty123",
    "12345678910",
    "1234567890",
    "sayang123",
    "cintaku",
    "anjing123",
    "bismillah123",
}


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"]) | LOCAL_COMMON


def weakness(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` is not acceptable (an English message id), or None."""
    if len(password) < MIN_LENGTH:
        return N_("Password must be at least 8 characters long.")
    if len(password) > MAX_LENGTH:
        return N_("Password must be at most 256 characters long.")
    lowered = password.lower()
    if lowered in _common() or len(set(password)) <= 2:
        return N_("This password is too common; choose one that is harder to guess.")
    local = email.split("@")[0].lower()
    if (local and len(local) >= 4 and local in lowered) or (name and lowered == name.lower().replace(" ", "")):
        return N_("Password must not contain your e-mail address or name.")
    return None


def hash_password(password: str) -> str:
    return HASHER.hash(password)


_DUMMY_HASH = HASHER.hash("timing-equaliser-not-a-password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user still costs one argon2 verification."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
