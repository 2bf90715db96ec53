"""Latency histograms (pure): log-linear buckets, mergeable across workers and runs.

Values are recorded in microseconds. Buckets follow the HDR layout with 5 sub-bucket bits:
values below 64 µs are exact, larger ones fall in buckets at most 1/32 of their value
wide, so a reported percentile (the bucket's midpoint, clamped to the observed min/max)
is within 1.6 % of the true sample. Memory is bounded by the value range, not the number
of samples (a few hundred buckets cover 1 µs .. 1 h).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Histogram", "bucket_bounds", "bucket_index", "rate"]

SUB_BITS = 5
SUB_COUNT = 1 << SUB_BITS


def bucket_index(value: int) -> int:
    """The bucket of a non-negative integer value."""
    if value < 0:
        raise ValueError("histogram values must be non-negative")
    if value < SUB_COUNT:
        return value
    shift = value.bit_length() - 1 - SUB_BITS
    return shift * SUB_COUNT + (value >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The smallest and largest value that fall in bucket ``index`` (inclusive)."""
    if index < 0:
        raise ValueError("bucket index must be non-negative")
    if index < 2 * SUB_COUNT:
        return index, index
    shift = index // SUB_COUNT - 1
    top = index % SUB_COUNT + SUB_COUNT
    return top << shift, ((top + 1) << shift) - 1


@dataclass
class Histogram:
    """Counts of microsecond values by bucket, with exact count, sum, min and max."""

    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    total: int = 0
    min: int | None = None
    max: int | None = None

    def record(self, value_us: int) -> None:
        value = value_us if value_us > 0 else 0
        index = bucket_index(value)
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1
        self.count += 1
        self.total += value
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value

    def record_ns(self, value_ns: int) -> None:
        self.record(value_ns // 1000)

    def merge(self, other: Histogram) -> Histogram:
        """Add ``other``'s samples into this histogram (in place); returns self."""
        for index, n in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + n
        self.count += other.count
        self.total += other.total
        if other.min is not None and (self.min is None or other.min < self.min):
            self.min = other.min
        if other.max is not None and (self.max is None or other.max > self.max):
            self.max = other.max
        return self

    @classmethod
    def merged(cls, parts: Iterable[Histogram]) -> Histogram:
        result = cls()
        for part in parts:
            result.merge(part)
        return result

    def percentile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1) in microseconds, or None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError("quantile must be within [0, 1]")
        if self.count == 0 or self.min is None or self.max is None:
            return None
        rank = max(1, math.ceil(q * self.count))
        if rank == 1:
            return float(self.min)
        if rank >= self.count:
            return float(self.max)
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                low, high = bucket_bounds(index)
                middle = (low + high) / 2
                return float(min(max(middle, self.min), self.max))
        return float(self.max)

    def percentile_ms(self, q: float) -> float | None:
        value = self.percentile(q)
        return None if value is None else value / 1000.0

    @property
    def mean_ms(self) -> float | None:
        return None if self.count == 0 else self.total / self.count / 1000.0

    def cdf_ms(self) -> list[tuple[float, float]]:
        """(upper bound in ms, fraction of samples at or below it) per non-empty bucket."""
        points: list[tuple[float, float]] = []
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            points.append((bucket_bounds(index)[1] / 1000.0, seen / self.count))
        return points

    def summary_ms(self) -> dict[str, float | int | None]:
        return {
            "count": self.count,
            "p50": self.percentile_ms(0.50),
            "p95": self.percentile_ms(0.95),
            "p99": self.percentile_ms(0.99),
            "max": None if self.max is None else self.max / 1000.0,
            "mean": self.mean_ms,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": "us",
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
            "buckets": {str(index): n for index, n in sorted(self.counts.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        if data.get("unit", "us") != "us":
            raise ValueError(f"unsupported histogram unit {data.get('unit')!r}")
        buckets = data.get("buckets", {})
        return cls(
            counts={int(index): int(n) for index, n in buckets.items()},
            count=int(data.get("count", 0)),
            total=int(data.get("total", 0)),
            min=None if data.get("min") is None else int(data["min"]),
            max=None if data.get("max") is None else int(data["max"]),
        )


def rate(count: int, seconds: float) -> float:
    """Events per second, 0 for an empty interval."""
    return count / seconds if seconds > 0 else 0.0
