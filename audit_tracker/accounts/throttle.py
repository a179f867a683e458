"""The brake on guessed passwords: failures counted per account and per address, in the database.

A counter row per key (``compte:<e-mail>``, ``adresse:<ip>``) counts the failures of a window;
past the limit the key is blocked until a time, and while it is, even the right password is
refused (without being checked, so a blocked account tells nothing). Counting in the database
rather than in a process's memory holds across every web worker, needs nothing to install, and
reads the app's clock (``audit_tracker.clock``), so tests move time instead of waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import as_utc
from ..models import LoginThrottle


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    block: timedelta = timedelta(minutes=15)


def limits_from(config: Mapping[str, Any]) -> Limits:
    """The limits the app's configuration sets."""
    return Limits(
        per_account=int(config["LOGIN_MAX_FAILURES"]),
        per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        window=timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"])),
        block=timedelta(minutes=int(config["LOGIN_BLOCK_MINUTES"])))


def keys(email: str, address: str) -> list[tuple[str, str]]:
    """``(key, kind)`` of a login attempt; the e-mail as typed, normalised like accounts."""
    return [(f"compte:{email.strip().lower()[:254]}", "account"),
            (f"adresse:{address[:64]}", "address")]


def blocked_until(session: Session, email: str, address: str, now: datetime) -> datetime | None:
    """When the latest block on this account or address ends, or None when none holds."""
    names = [key for key, _kind in keys(email, address)]
    ends = [as_utc(row.blocked_until) for row in session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_(names))) if row.blocked_until]
    ends = [end for end in ends if end > now]
    return max(ends) if ends else None


def record_failure(session: Session, email: str, address: str, now: datetime,
                   limits: Limits) -> None:
    for key, kind in keys(email, address):
        row = _row(session, key, now)
        if now - as_utc(row.window_start) > limits.window:
            row.window_start, row.failures = now, 0
        row.failures += 1
        limit = limits.per_account if kind == "account" else limits.per_address
        if row.failures >= limit:
            row.blocked_until = now + limits.block
    session.flush()


def record_success(session: Session, email: str, address: str) -> None:
    """The account's count starts again; the address keeps its own (other accounts tried)."""
    key = keys(email, address)[0][0]
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()


def _row(session: Session, key: str, now: datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
    except IntegrityError:  # another worker counted the first failure at the same moment
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        assert row is not None
    return row
