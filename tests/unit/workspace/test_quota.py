"""Quota periods by value: keys, starts, resets, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from actors.workspace.quota import (
    Period,
    QuotaPolicy,
    format_instant,
    parse_period,
    period_key,
    period_start,
    resets_at,
    retry_after_seconds,
    window,
)

UTC = UTC


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    tz: timezone = UTC,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def test_month_periods() -> None:
    now = at(2026, 1, 15, 13, 45, 10)
    assert period_key(now, Period.MONTH) == "2026-01"
    assert period_start(now, "month") == at(2026, 1, 1)
    assert resets_at(now, Period.MONTH) == at(2026, 2, 1)
    # December rolls into the next year; the last instant of a month is still in it.
    assert resets_at(at(2025, 12, 31, 23, 59, 59), Period.MONTH) == at(2026, 1, 1)
    assert period_key(at(2026, 1, 31, 23, 59, 59, 999999), "month") == "2026-01"
    assert period_key(at(2026, 2, 1), "month") == "2026-02"


def test_day_periods() -> None:
    now = at(2024, 2, 28, 23, 0)
    assert period_key(now, Period.DAY) == "2024-02-28"
    assert resets_at(now, Period.DAY) == at(2024, 2, 29)  # a leap day
    assert resets_at(at(2024, 12, 31, 5), "day") == at(2025, 1, 1)


def test_periods_are_utc_whatever_the_zone() -> None:
    toronto = timezone(timedelta(hours=-5))
    # 21:00 on Jan 31 in Toronto is Feb 1 in UTC: the February quota.
    evening = at(2026, 1, 31, 21, 0, tz=toronto)
    assert period_key(evening, "month") == "2026-02"
    assert period_key(evening, "day") == "2026-02-01"
    with pytest.raises(ValueError, match="aware"):
        period_key(datetime(2026, 1, 1), "day")


def test_window_and_formatting() -> None:
    w = window(at(2026, 3, 10, 8, 30), Period.MONTH)
    assert (w.key, w.starts_at, w.resets_at) == ("2026-03", at(2026, 3, 1), at(2026, 4, 1))
    assert w.resets_at_iso == "2026-04-01T00:00:00.000Z"
    assert format_instant(at(2026, 1, 2, 3, 4, 5, 678901)) == "2026-01-02T03:04:05.678Z"


def test_retry_after() -> None:
    now = at(2026, 1, 31, 23, 59, 58, 500000)
    assert retry_after_seconds(now, resets_at(now, "month")) == 2
    assert retry_after_seconds(at(2026, 2, 1), at(2026, 2, 1)) == 1  # never 0


def test_period_and_policy_parsing() -> None:
    assert parse_period(" Month ") is Period.MONTH
    with pytest.raises(ValueError, match="day, month"):
        parse_period("week")
    assert QuotaPolicy().limit > 0
    with pytest.raises(ValueError, match="quota limit must not be negative, not -1"):
        QuotaPolicy(limit=-1)
