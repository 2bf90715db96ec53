"""History bounds: defaults and clamping (what is not an integer is refused while decoding)."""

from __future__ import annotations

import pytest

from actors.workspace.clamps import HISTORY_LIMIT, RUN_HISTORY_LIMIT, Bound, clamp


def test_the_documented_bounds() -> None:
    assert (HISTORY_LIMIT.default, HISTORY_LIMIT.low, HISTORY_LIMIT.high) == (50, 0, 200)
    assert (RUN_HISTORY_LIMIT.default, RUN_HISTORY_LIMIT.low, RUN_HISTORY_LIMIT.high) == (10, 0, 50)
    with pytest.raises(ValueError, match=r"default 60 is outside 0\.\.50"):
        Bound(default=60, low=0, high=50)


def test_clamp() -> None:
    assert [clamp(v, 0, 10) for v in (-5, 0, 7, 10, 11)] == [0, 0, 7, 10, 10]


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 50), (0, 0), (17, 17), (200, 200), (201, 200), (100_000, 200), (-1, 0)]
)
def test_the_history_limit(value: int | None, expected: int) -> None:
    assert HISTORY_LIMIT.clamp(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(None, 10), (0, 0), (3, 3), (50, 50), (51, 50), (-4, 0)])
def test_a_run_history_limit(value: int | None, expected: int) -> None:
    assert RUN_HISTORY_LIMIT.clamp(value) == expected


def test_bounds_are_settings() -> None:
    assert Bound(default=5, low=1, high=100).clamp(900) == 100
    assert Bound(default=5, low=1, high=100).clamp(None) == 5
    assert Bound(default=5, low=1, high=20).clamp(0) == 1
