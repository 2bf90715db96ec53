"""History bounds: defaults, clamping, and refusals naming the field."""

from __future__ import annotations

import pytest

from actors.core.errors import ValidationError
from actors.workspace.clamps import (
    HISTORY_LIMIT,
    RUN_HISTORY_LIMIT,
    Bound,
    clamp,
    parse_history_limit,
    parse_run_history_limit,
)


def test_the_documented_bounds() -> None:
    assert (HISTORY_LIMIT.default, HISTORY_LIMIT.low, HISTORY_LIMIT.high) == (50, 0, 200)
    assert (RUN_HISTORY_LIMIT.default, RUN_HISTORY_LIMIT.low, RUN_HISTORY_LIMIT.high) == (10, 0, 50)
    with pytest.raises(ValueError, match=r"default 60 is outside 0\.\.50"):
        Bound(default=60, low=0, high=50)


def test_clamp() -> None:
    assert [clamp(v, 0, 10) for v in (-5, 0, 7, 10, 11)] == [0, 0, 7, 10, 10]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 50),
        ("", 50),
        ("  ", 50),
        ("0", 0),
        ("17", 17),
        (" 200 ", 200),
        ("201", 200),
        ("100000", 200),
        ("-1", 0),
        ("+5", 5),
    ],
)
def test_history_limit_from_the_query(raw: str | None, expected: int) -> None:
    assert parse_history_limit(raw) == expected


@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3", "0x10", "٣", "9" * 13, "--1"])
def test_history_limit_refuses_non_integers(raw: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_history_limit(raw)
    assert refused.value.field == "limit"
    assert "0..200" in refused.value.message


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 10), (0, 0), (3, 3), (50, 50), (51, 50), (10_000, 50), (-4, 0), (12.0, 12)]
)
def test_run_history_limit_from_the_body(value: object, expected: int) -> None:
    assert parse_run_history_limit(value) == expected


@pytest.mark.parametrize("value", ["10", True, False, 2.5, [10], {"n": 1}])
def test_run_history_limit_refuses_non_integers(value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_run_history_limit(value)
    assert refused.value.field == "history_limit"


def test_bounds_are_settings() -> None:
    assert parse_history_limit("900", Bound(default=5, low=1, high=100)) == 100
    assert parse_history_limit(None, Bound(default=5, low=1, high=100)) == 5
    assert parse_run_history_limit(0, Bound(default=5, low=1, high=20)) == 1
