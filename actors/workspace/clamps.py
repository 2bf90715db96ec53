"""The workspace's two history bounds, read from a query string or a body (pure).

The spec clamps rather than refuses: ``?limit=500`` reads 200, ``history_limit: -3`` reads 0.
What cannot be read as an integer at all is refused, naming the field.

| value | where | default | clamped to |
|---|---|---|---|
| ``limit`` | ``GET /api/v1/sessions/{id}/history?limit=`` | 50 | 0..200 |
| ``history_limit`` | ``POST /api/v1/sessions/{id}/runs`` body | 10 | 0..50 |
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.core.errors import ValidationError

__all__ = [
    "HISTORY_LIMIT",
    "RUN_HISTORY_LIMIT",
    "Bound",
    "clamp",
    "parse_history_limit",
    "parse_run_history_limit",
]

# A query value longer than this is not a number anyone meant; refuse before int() parses it.
_MAX_DIGITS = 12


@dataclass(frozen=True, slots=True)
class Bound:
    """A default and the range a value is clamped into."""

    default: int
    low: int
    high: int

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"default {self.default} is outside {self.low}..{self.high}")


HISTORY_LIMIT = Bound(default=50, low=0, high=200)
RUN_HISTORY_LIMIT = Bound(default=10, low=0, high=50)


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def parse_history_limit(raw: str | None, bound: Bound = HISTORY_LIMIT, *, field: str = "limit") -> int:
    """``?limit=`` as the history endpoint reads it: absent or empty → the default."""
    if raw is None or raw.strip() == "":
        return bound.default
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        raise ValidationError(field, f"must be an integer (clamped to {bound.low}..{bound.high})")
    return clamp(int(text), bound.low, bound.high)


def parse_run_history_limit(
    value: object, bound: Bound = RUN_HISTORY_LIMIT, *, field: str = "history_limit"
) -> int:
    """``history_limit`` of a run body: absent or null → the default; an integral JSON
    number (``10`` or ``10.0``) is clamped; anything else (a string, a bool) is refused."""
    if value is None:
        return bound.default
    if isinstance(value, bool):
        raise ValidationError(field, "must be an integer, not a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(field, "must be an integer")
        return clamp(int(value), bound.low, bound.high)
    if not isinstance(value, int):
        raise ValidationError(field, f"must be an integer (clamped to {bound.low}..{bound.high})")
    return clamp(value, bound.low, bound.high)
