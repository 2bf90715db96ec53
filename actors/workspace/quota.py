"""Quota periods as arithmetic (pure): which period an instant is in, and when it resets.

Periods are calendar periods in UTC: a ``day`` starts at 00:00 UTC, a ``month`` on its first
day at 00:00 UTC. The period key names the ledger row (``2026-01-15`` / ``2026-01``), so two
instants share a quota exactly when they share a key; the reset is the next period's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

__all__ = [
    "Period",
    "QuotaPolicy",
    "QuotaWindow",
    "format_instant",
    "parse_period",
    "period_key",
    "period_start",
    "resets_at",
    "retry_after_seconds",
    "window",
]


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """Runs a user may start per period; ``limit`` 0 turns runs off."""

    limit: int = 100
    period: Period = Period.MONTH

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError(f"quota limit must not be negative, not {self.limit}")


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    """The period an instant falls in: its ledger key and its bounds (start inclusive)."""

    key: str
    starts_at: datetime
    resets_at: datetime

    @property
    def resets_at_iso(self) -> str:
        return format_instant(self.resets_at)


def parse_period(value: str | Period) -> Period:
    try:
        return Period(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in Period)
        raise ValueError(f"quota period must be one of {choices}, not {value!r}") from None


def _utc(now: datetime) -> datetime:
    # A naive datetime could be any zone's wall clock: guessing would shift every period.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("quota arithmetic needs an aware datetime (e.g. datetime.now(timezone.utc))")
    return now.astimezone(UTC)


def period_start(now: datetime, period: Period | str) -> datetime:
    at = _utc(now)
    if parse_period(period) is Period.DAY:
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def resets_at(now: datetime, period: Period | str) -> datetime:
    """The start of the next period: when the user's count starts again from zero."""
    start = period_start(now, period)
    if parse_period(period) is Period.DAY:
        return start + timedelta(days=1)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def period_key(now: datetime, period: Period | str) -> str:
    start = period_start(now, period)
    if parse_period(period) is Period.DAY:
        return start.strftime("%Y-%m-%d")
    return start.strftime("%Y-%m")


def window(now: datetime, period: Period | str) -> QuotaWindow:
    return QuotaWindow(period_key(now, period), period_start(now, period), resets_at(now, period))


def format_instant(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as every timestamp of the API is printed."""
    utc = _utc(at)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def retry_after_seconds(now: datetime, reset: datetime) -> int:
    """Whole seconds until ``reset``, at least 1: the 429's ``Retry-After``."""
    return max(1, math.ceil((_utc(reset) - _utc(now)).total_seconds()))
