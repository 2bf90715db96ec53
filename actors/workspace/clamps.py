"""The workspace's two history bounds (pure).

The spec clamps rather than refuses: ``?limit=500`` reads 200, ``history_limit: -3`` reads 0.
What is not an integer at all is refused while decoding, naming the field
(``actors/workspace/bodies.py``).

| value | where | default | clamped to |
|---|---|---|---|
| ``limit`` | ``GET /api/v1/sessions/{id}/history?limit=`` | 50 | 0..200 |
| ``history_limit`` | ``POST /api/v1/sessions/{id}/runs`` body | 10 | 0..50 |
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HISTORY_LIMIT", "RUN_HISTORY_LIMIT", "Bound", "clamp"]


@dataclass(frozen=True, slots=True)
class Bound:
    """A default and the range a value is clamped into."""

    default: int
    low: int
    high: int

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"default {self.default} is outside {self.low}..{self.high}")

    def clamp(self, value: int | None) -> int:
        """``value`` brought into range; absent (None) reads as the default."""
        return self.default if value is None else clamp(value, self.low, self.high)


HISTORY_LIMIT = Bound(default=50, low=0, high=200)
RUN_HISTORY_LIMIT = Bound(default=10, low=0, high=50)


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
