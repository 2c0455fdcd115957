"""Log-in throttling and per-address rate limits, counted in the ``login_attempts`` table.

The counts live in the database, not in Redis: log-ins must keep working while Redis is down, one
SQL count answers both engines, and the rows double as evidence next to the audit trail.

- One account from one address: after ``login_free_attempts`` failures, each further try waits, the wait
  doubling from ``login_base_delay_seconds`` up to the window. A success of that account from that address
  clears its count. The right password from another address is never held up by this count, so nobody
  can lock another person out.
- One address over all accounts: after ``login_max_failures_per_address`` failures in the window, the
  address waits the same way. Successes do not clear this count (logging in to one's own account must
  not buy more guesses at others').
- Sign-ups and password-reset requests: at most N per address per hour.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from tkm.auth.tables import LoginAttempt
from tkm.core.errors import TooManyRequests
from tkm.core.i18n import _
from tkm.core.settings import Settings

RATE_WINDOW = timedelta(hours=1)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def backoff(failures: int, free: int, base: int, cap: int) -> int:
    """Seconds to wait after the last failure: 0 while ``failures < free``, then base, 2×base, 4×base … ≤ cap."""
    if failures < free:
        return 0
    return min(cap, base * 2 ** min(failures - free, 20))


async def _failures(since: datetime, *conditions: Any) -> tuple[int, datetime | None]:
    rows = await (
        LoginAttempt.select(LoginAttempt.at)
        .where(LoginAttempt.kind == "login", LoginAttempt.success.eq(False), LoginAttempt.at > since, *conditions)
        .order_by(LoginAttempt.at, ascending=False)
    )
    return len(rows), (_aware(rows[0]["at"]) if rows else None)


async def pair_failures(email: str, address: str, since: datetime) -> tuple[int, datetime | None]:
    """Failures of this account from this address in the window, since their last success."""
    last_ok = await (
        LoginAttempt.select(LoginAttempt.at)
        .where(
            LoginAttempt.kind == "login",
            LoginAttempt.email == email,
            LoginAttempt.address == address,
            LoginAttempt.success.eq(True),
            LoginAttempt.at > since,
        )
        .order_by(LoginAttempt.at, ascending=False)
        .first()
    )
    start = max(since, _aware(last_ok["at"])) if last_ok else since
    return await _failures(start, LoginAttempt.email == email, LoginAttempt.address == address)


async def account_failures(email: str, since: datetime) -> int:
    """Failures of this account from any address in the window (for the owner's notice)."""
    return (await _failures(since, LoginAttempt.email == email))[0]


async def login_wait(settings: Settings, email: str, address: str, now: datetime) -> int:
    """Seconds this address must still wait before trying this account again (0: go ahead)."""
    window = settings.login_window_seconds
    since = now - timedelta(seconds=window)
    waits = []
    count, last = await pair_failures(email, address, since)
    if last is not None:
        delay = backoff(count, settings.login_free_attempts, settings.login_base_delay_seconds, window)
        waits.append((last + timedelta(seconds=delay) - now).total_seconds())
    if address:
        count, last = await _failures(since, LoginAttempt.address == address)
        if last is not None:
            delay = backoff(count, settings.login_max_failures_per_address, settings.login_base_delay_seconds, window)
            waits.append((last + timedelta(seconds=delay) - now).total_seconds())
    longest = max(waits, default=0.0)
    return math.ceil(longest) if longest > 0 else 0


def too_many(seconds: int) -> TooManyRequests:
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyRequests(
        _("Too many attempts. Wait %(minutes)d minutes and try again.", minutes=minutes),
        headers={"Retry-After": str(max(1, seconds))},
    )


async def check_rate(kind: str, address: str, limit: int, now: datetime) -> None:
    """Refuse (429 with Retry-After) the next ``kind`` request of ``address`` once it made ``limit`` this hour."""
    if not address:
        return
    rows = await (
        LoginAttempt.select(LoginAttempt.at)
        .where(LoginAttempt.kind == kind, LoginAttempt.address == address, LoginAttempt.at > now - RATE_WINDOW)
        .order_by(LoginAttempt.at)
    )
    if len(rows) >= limit:
        oldest = _aware(rows[len(rows) - limit]["at"])
        raise too_many(math.ceil((oldest + RATE_WINDOW - now).total_seconds()))


async def record(kind: str, email: str, address: str, success: bool, now: datetime) -> None:
    await LoginAttempt.insert(LoginAttempt(at=now, email=email, address=address[:100], success=success, kind=kind))
