"""A latency histogram as plain numbers (pure: no clock, no I/O, no metrics library).

The store owner records its commit latencies here; a gateway's ``/metrics`` receives the
snapshot over a control call and exposes it as a Prometheus histogram. Buckets are
cumulative upper bounds in seconds, as Prometheus has them, so a snapshot converts as is.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["COMMIT_BUCKETS", "LatencyHistogram", "LatencySnapshot"]

# From a lone SQLite commit (~0.2 ms) to a Postgres blip; past the last: +Inf.
COMMIT_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


@dataclass(frozen=True, slots=True)
class LatencySnapshot:
    """``cumulative[i]``: observations <= ``bounds[i]``; ``count`` includes those past the last."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total: float

    def to_wire(self) -> list[object]:
        return [list(self.bounds), list(self.cumulative), self.count, self.total]

    @classmethod
    def from_wire(cls, value: Sequence[object]) -> LatencySnapshot:
        bounds, cumulative, count, total = value
        assert isinstance(bounds, list)
        assert isinstance(cumulative, list)
        assert isinstance(count, int)
        assert isinstance(total, (int, float))
        return cls(tuple(float(b) for b in bounds), tuple(int(c) for c in cumulative), count, float(total))


class LatencyHistogram:
    def __init__(self, bounds: Sequence[float] = COMMIT_BUCKETS) -> None:
        if list(bounds) != sorted(set(bounds)) or not bounds:
            raise ValueError("bucket bounds must be distinct and increasing")
        self._bounds = tuple(float(b) for b in bounds)
        self._counts = [0] * (len(self._bounds) + 1)  # the last: past every bound
        self._total = 0.0

    def observe(self, seconds: float) -> None:
        self._counts[bisect.bisect_left(self._bounds, seconds)] += 1
        self._total += seconds

    def snapshot(self) -> LatencySnapshot:
        cumulative: list[int] = []
        running = 0
        for count in self._counts[:-1]:
            running += count
            cumulative.append(running)
        return LatencySnapshot(self._bounds, tuple(cumulative), running + self._counts[-1], self._total)
