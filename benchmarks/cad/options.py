"""The cad benchmark's sizes and bounds (pure): parts, worker counts, rounds, time budgets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import BenchConfigError

__all__ = [
    "MAX_PARTS",
    "MAX_ROUNDS",
    "PHASE_BUDGET_S",
    "SMOKE_CAD",
    "WARM_UP_BUDGET_S",
    "CadOptions",
    "round_budget_s",
    "validate_cad",
    "worker_counts",
]

# A design session may ask for at most this many parts (CadLimits.max_parts_per_session).
MAX_PARTS = 200
MAX_ROUNDS = 10
# What one measured round may take at most, whatever the parts: the other benchmarks' phase bound.
PHASE_BUDGET_S = 600.0
# Loading build123d takes ~2 s per worker here; on a busy machine several times that.
WARM_UP_BUDGET_S = 120.0


@dataclass(frozen=True, slots=True)
class CadOptions:
    parts: int = 20
    workers: str = "1,all"  # Ray worker counts, ascending; "all" is every core of this machine
    rounds: int = 1  # BOM submissions per worker count (and in-process), on one warm cluster
    job_timeout_s: float = 60.0  # CadLimits.job_timeout_s: the engine's bound on one job


SMOKE_CAD = CadOptions(parts=2, workers="1", rounds=1)


def worker_counts(spec: str, cpus: int) -> list[int]:
    """``"1,all"`` → ``[1, cpus]``: distinct, ascending, each within 1..cpus (pure)."""
    counts: set[int] = set()
    for token in (part.strip().lower() for part in spec.split(",")):
        if not token:
            continue
        if token == "all":
            counts.add(cpus)
            continue
        try:
            count = int(token)
        except ValueError:
            raise BenchConfigError("workers", f"expected counts or 'all' like 1,all, got {spec!r}") from None
        if not 1 <= count <= cpus:
            # More Ray workers than cores would only time-share them: not a throughput figure.
            raise BenchConfigError("workers", f"{count} is not within 1..{cpus} (the cores here)")
        counts.add(count)
    if not counts:
        raise BenchConfigError("workers", "name at least one count")
    return sorted(counts)


def validate_cad(options: CadOptions, cpus: int) -> list[int]:
    """Raise BenchConfigError for sizes out of bounds; returns the worker counts."""
    if not 1 <= options.parts <= MAX_PARTS:
        raise BenchConfigError("parts", f"must be within 1..{MAX_PARTS}")
    if not 1 <= options.rounds <= MAX_ROUNDS:
        raise BenchConfigError("rounds", f"must be within 1..{MAX_ROUNDS}")
    if not 0 < options.job_timeout_s <= PHASE_BUDGET_S:
        raise BenchConfigError("job_timeout_s", f"must be within (0, {PHASE_BUDGET_S:g}] seconds")
    return worker_counts(options.workers, cpus)


def round_budget_s(parts: int, workers: int, job_timeout_s: float) -> float:
    """How long one round may take: every worker's share of jobs at the job timeout, capped (pure)."""
    return min(PHASE_BUDGET_S, 30.0 + job_timeout_s * math.ceil(parts / max(1, workers)))
