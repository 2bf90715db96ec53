"""The commit-latency histogram by value (storage.latency)."""

from __future__ import annotations

import pytest

from storage.latency import COMMIT_BUCKETS, LatencyHistogram, LatencySnapshot


def test_cumulative_buckets_count_and_sum() -> None:
    histogram = LatencyHistogram((0.001, 0.01, 0.1))
    for seconds in (0.0005, 0.001, 0.002, 0.05, 0.5, 3.0):
        histogram.observe(seconds)
    snap = histogram.snapshot()
    # a bound is inclusive (le), as in Prometheus
    assert snap.cumulative == (2, 3, 4)
    assert snap.count == 6
    assert snap.total == pytest.approx(3.5535)
    assert snap.bounds == (0.001, 0.01, 0.1)


def test_empty_snapshot() -> None:
    snap = LatencyHistogram().snapshot()
    assert snap.bounds == COMMIT_BUCKETS
    assert snap.cumulative == (0,) * len(COMMIT_BUCKETS)
    assert (snap.count, snap.total) == (0, 0.0)


def test_wire_round_trip() -> None:
    histogram = LatencyHistogram()
    histogram.observe(0.003)
    snap = histogram.snapshot()
    assert LatencySnapshot.from_wire(snap.to_wire()) == snap


@pytest.mark.parametrize("bounds", [(), (0.1, 0.01), (0.1, 0.1)])
def test_bounds_must_increase(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="bucket bounds must be distinct and increasing"):
        LatencyHistogram(bounds)
