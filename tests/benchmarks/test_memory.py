"""`python -m benchmarks memory`'s pure parts: rows per process kind and their table."""

from __future__ import annotations

from benchmarks.memory import KindUsage, by_kind, memory_table

MIB = 1 << 20


def test_processes_of_a_kind_are_summed_largest_first() -> None:
    rows = by_kind(
        [
            ("ray::SessionHost", 60 * MIB, 100 * MIB),
            ("raylet", 15 * MIB, 28 * MIB),
            ("ray::SessionHost", 70 * MIB, 110 * MIB),
        ]
    )
    assert rows == [
        KindUsage("ray::SessionHost", 2, 130 * MIB, 210 * MIB),
        KindUsage("raylet", 1, 15 * MIB, 28 * MIB),
    ]


def test_table_has_a_total() -> None:
    table = memory_table([KindUsage("gateway (atelier serve)", 1, 85 * MIB, 140 * MIB)])
    assert table.splitlines()[-2:] == [
        "| gateway (atelier serve) | 1 | 85.0 | 140.0 |",
        "| **total** | 1 | **85.0** | 140.0 |",
    ]
