"""How busy the machine was around a comparison: load average and *other CPU* (pure verdicts).

*Other CPU* is the machine's busy time minus what the benchmark's own processes used: before
the run that is everything but the orchestrator; during a step it is the step's ``other_cpu``
(busy time minus the server and the load workers, so kernel network work counts too).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psutil

from .targets.process import cpu_seconds_of

__all__ = [
    "BUSY_LOADAVG",
    "BUSY_OTHER_CPU",
    "BUSY_OTHER_CPU_DURING",
    "SATURATED_LOAD_WORKER",
    "busy_reasons",
    "during",
    "machine_busy_seconds",
    "sample_machine",
]

# Thresholds of the busy-machine warning. Before the run nothing of ours is busy, so any
# other CPU is a neighbour; during steps the kernel's loopback work counts as other CPU
# (≈0.1 cores at fanout sizes on a quiet machine), hence the higher bound there.
BUSY_OTHER_CPU = 0.1
BUSY_LOADAVG = 1.5
BUSY_OTHER_CPU_DURING = 0.25
# A load worker is one process: past this share of a core, its own event loop queues what it
# receives, and the latencies it records include that queue (the server's and a peer's alike).
SATURATED_LOAD_WORKER = 0.8


@dataclass(frozen=True, slots=True)
class Thresholds:
    other_cpu: float = BUSY_OTHER_CPU
    loadavg: float = BUSY_LOADAVG
    other_cpu_during: float = BUSY_OTHER_CPU_DURING


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every process, ours and everyone else's)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _own_seconds() -> float:
    me = psutil.Process()
    return cpu_seconds_of([me, *me.children(recursive=True)])


def sample_machine(seconds: float = 2.0) -> dict[str, Any]:
    """Load average (1, 5, 15 min) now and the cores busy outside this process tree over ``seconds``."""
    busy0, own0, began = machine_busy_seconds(), _own_seconds(), time.monotonic()
    time.sleep(seconds)  # the orchestrator does nothing else yet: this is the measurement window
    busy1, own1 = machine_busy_seconds(), _own_seconds()
    elapsed = time.monotonic() - began
    other = max(0.0, (busy1 - busy0) - (own1 - own0)) / elapsed if elapsed > 0 else 0.0
    return {"loadavg": [round(v, 2) for v in os.getloadavg()], "other_cpu": round(other, 3)}


def during(other_cpu: Iterable[float], loadavg: Iterable[float]) -> dict[str, Any]:
    """The load while measuring (pure): other CPU per step (median, max) and the peak 1-min load average."""
    others = list(other_cpu)
    loads = list(loadavg)
    return {
        "other_cpu_median": round(statistics.median(others), 3) if others else None,
        "other_cpu_max": round(max(others), 3) if others else None,
        "loadavg_max": round(max(loads), 2) if loads else None,
    }


def busy_reasons(load: Mapping[str, Any], limits: Thresholds = Thresholds()) -> list[str]:
    """Why the machine counts as busy (empty: quiet), from ``{"before": …, "during": …}`` (pure)."""
    reasons: list[str] = []
    before = load.get("before") or {}
    other = before.get("other_cpu")
    if isinstance(other, (int, float)) and other > limits.other_cpu:
        reasons.append(f"other CPU {other:.2f} cores before the run (> {limits.other_cpu:g})")
    loadavg = (before.get("loadavg") or [None])[0]
    if isinstance(loadavg, (int, float)) and loadavg > limits.loadavg:
        reasons.append(f"load average {loadavg:.2f} at the start (> {limits.loadavg:g})")
    median = (load.get("during") or {}).get("other_cpu_median")
    if isinstance(median, (int, float)) and median > limits.other_cpu_during:
        reasons.append(
            f"other CPU {median:.2f} cores (median) during the steps (> {limits.other_cpu_during:g})"
        )
    return reasons
