"""Histogram buckets, percentiles and merging, checked by value."""

from __future__ import annotations

import random

import pytest

from benchmarks.stats import Histogram, bucket_bounds, bucket_index, rate


def test_small_values_have_exact_buckets() -> None:
    for value in range(64):
        assert bucket_bounds(bucket_index(value)) == (value, value)


@pytest.mark.parametrize("value", [64, 65, 100, 1_000, 12_345, 999_999, 2**40 + 7])
def test_every_value_falls_inside_its_bucket_and_buckets_are_narrow(value: int) -> None:
    low, high = bucket_bounds(bucket_index(value))
    assert low <= value <= high
    assert (high - low + 1) / low <= 1 / 32


def test_bucket_indexes_are_monotonic_and_contiguous() -> None:
    previous = bucket_index(0)
    for value in range(1, 20_000):
        index = bucket_index(value)
        assert index in (previous, previous + 1)
        previous = index


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="histogram values must be non-negative"):
        bucket_index(-1)


def test_percentiles_of_a_uniform_sample_are_within_bucket_precision() -> None:
    histogram = Histogram()
    for value in range(1, 100_001):  # 1 µs .. 100 ms
        histogram.record(value)
    assert histogram.count == 100_000
    for q, exact in ((0.5, 50_000), (0.95, 95_000), (0.99, 99_000)):
        measured = histogram.percentile(q)
        assert measured is not None
        assert abs(measured - exact) / exact < 0.02
    assert histogram.percentile(0.0) == 1
    assert histogram.percentile(1.0) == 100_000
    assert histogram.percentile_ms(0.5) == pytest.approx(50.0, rel=0.02)


def test_empty_histogram_has_no_percentiles() -> None:
    histogram = Histogram()
    assert histogram.percentile(0.5) is None
    assert histogram.mean_ms is None
    assert histogram.summary_ms()["p99"] is None
    assert histogram.cdf_ms() == []


def test_record_ns_converts_and_clamps_negative_to_zero() -> None:
    histogram = Histogram()
    histogram.record_ns(2_500_000)  # 2.5 ms
    histogram.record_ns(-5)
    assert histogram.max == 2_500
    assert histogram.min == 0


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(7)
    values = [rng.randint(0, 5_000_000) for _ in range(5_000)]
    whole = Histogram()
    parts = [Histogram(), Histogram(), Histogram()]
    for index, value in enumerate(values):
        whole.record(value)
        parts[index % 3].record(value)
    merged = Histogram.merged(parts)
    assert merged == whole


def test_round_trip_through_dict() -> None:
    histogram = Histogram()
    for value in (3, 70, 70, 1_000_000):
        histogram.record(value)
    again = Histogram.from_dict(histogram.to_dict())
    assert again == histogram
    assert again.percentile(0.5) == histogram.percentile(0.5)


def test_cdf_ends_at_one() -> None:
    histogram = Histogram()
    for value in (1_000, 2_000, 4_000):
        histogram.record(value)
    points = histogram.cdf_ms()
    assert [round(f, 3) for _, f in points] == [0.333, 0.667, 1.0]
    assert points[0][0] >= 1.0


def test_rate() -> None:
    assert rate(100, 4.0) == 25.0
    assert rate(5, 0.0) == 0.0
