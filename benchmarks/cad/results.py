"""What a cad run measured, as plain data, and its summary (pure).

One `ModeResult` per way of running the BOM: ``in-process`` (``generate_part_sync`` serially
in the benchmark's own process, no Ray) and ``ray-N`` (a local Ray of N CPUs, N warm workers).
Each holds its rounds; each round every part's `JobSample`. Everything converts to and from
JSON-ready dicts, so ``python -m benchmarks report DIR`` re-renders without re-running.

Definitions (the same for every mode):
- *latency*: the job's submission → its result at the driver. All parts of a round are
  submitted at once (in-process: "submitted" at the round's start, then run one by one), so
  latency includes the wait for a free worker: what a part of a 20-part BOM waits for.
- *service*: the job's own time inside the worker (``timings``: kernel load + build + export).
- *jobs/min*: parts done in the round × 60 / the round's wall time (first submit → last result);
  the median over rounds.
- *cold start*: a fresh worker pool loading the CAD kernel (one ``warm_up`` per worker, all at
  once; in-process: ``warm_up_sync``), measured before any round and kept out of the rounds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "IN_PROCESS",
    "CadResults",
    "JobSample",
    "ModeResult",
    "RoundResult",
    "compare",
    "mode_key",
    "percentile",
    "summarize",
]

IN_PROCESS = "in-process"
# A job that spent this long loading the kernel ran on a worker the warm-up did not reach.
COLD_JOB_LOAD_S = 0.05


def mode_key(workers: int | None) -> str:
    return IN_PROCESS if workers is None else f"ray-{workers}"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Exact quantile with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class JobSample:
    temp_id: str
    shape: str
    ok: bool
    latency_s: float
    service_s: float | None = None  # None when the job never reported its timings
    load_s: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "temp_id": self.temp_id,
            "shape": self.shape,
            "ok": self.ok,
            "latency_s": self.latency_s,
            "service_s": self.service_s,
            "load_s": self.load_s,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSample:
        return cls(
            temp_id=str(data["temp_id"]),
            shape=str(data.get("shape", "?")),
            ok=bool(data["ok"]),
            latency_s=float(data["latency_s"]),
            service_s=None if data.get("service_s") is None else float(data["service_s"]),
            load_s=None if data.get("load_s") is None else float(data["load_s"]),
            reason=data.get("reason"),
        )


@dataclass
class RoundResult:
    round: int
    wall_s: float
    jobs: list[JobSample] = field(default_factory=list)
    machine_cpu: float = 0.0  # cores busy machine-wide during the round (other users included)
    own_cpu: float = 0.0  # of those, this process and its descendants (the jobs, Ray's own node)

    @property
    def other_cpu(self) -> float:
        """Cores busy outside the benchmark: a noisy-neighbour flag."""
        return max(0.0, self.machine_cpu - self.own_cpu)

    @property
    def done(self) -> int:
        return sum(1 for job in self.jobs if job.ok)

    @property
    def failed(self) -> int:
        return len(self.jobs) - self.done

    @property
    def jobs_per_min(self) -> float:
        return self.done * 60.0 / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "wall_s": self.wall_s,
            "machine_cpu": self.machine_cpu,
            "own_cpu": self.own_cpu,
            "other_cpu": self.other_cpu,
            "done": self.done,
            "failed": self.failed,
            "jobs_per_min": self.jobs_per_min,
            "jobs": [job.to_dict() for job in self.jobs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundResult:
        return cls(
            round=int(data["round"]),
            wall_s=float(data["wall_s"]),
            jobs=[JobSample.from_dict(job) for job in data.get("jobs", [])],
            machine_cpu=float(data.get("machine_cpu", 0.0)),
            own_cpu=float(data.get("own_cpu", 0.0)),
        )


@dataclass
class ModeResult:
    """The BOM run one way: in process, or on a Ray of ``workers`` CPUs."""

    workers: int | None  # None: in process, no Ray
    parts: int
    cluster: str = "none"  # none | own (started for this mode) | reused (already running)
    cluster_cpus: int = 0
    ray_start_s: float | None = None
    cold_start_s: float | None = None  # all warm-ups, submit → last done
    warm_up_s: list[float] = field(default_factory=list)  # each warm-up's own kernel load
    rounds: list[RoundResult] = field(default_factory=list)
    error: str | None = None  # the mode could not run (or finish): why

    @property
    def key(self) -> str:
        return mode_key(self.workers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "workers": self.workers,
            "parts": self.parts,
            "cluster": self.cluster,
            "cluster_cpus": self.cluster_cpus,
            "ray_start_s": self.ray_start_s,
            "cold_start_s": self.cold_start_s,
            "warm_up_s": list(self.warm_up_s),
            "error": self.error,
            "rounds": [r.to_dict() for r in self.rounds],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModeResult:
        return cls(
            workers=data.get("workers"),
            parts=int(data["parts"]),
            cluster=str(data.get("cluster", "none")),
            cluster_cpus=int(data.get("cluster_cpus", 0)),
            ray_start_s=data.get("ray_start_s"),
            cold_start_s=data.get("cold_start_s"),
            warm_up_s=[float(v) for v in data.get("warm_up_s", [])],
            rounds=[RoundResult.from_dict(r) for r in data.get("rounds", [])],
            error=data.get("error"),
        )


@dataclass
class CadResults:
    meta: dict[str, Any]
    modes: list[ModeResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        summary = summarize(self.modes)
        return {
            "kind": "cad",
            "meta": self.meta,
            "summary": summary,
            "comparison": compare(summary),
            "modes": [m.to_dict() for m in self.modes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CadResults:
        return cls(meta=dict(data.get("meta", {})), modes=[ModeResult.from_dict(m) for m in data["modes"]])


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000.0


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _summary(mode: ModeResult) -> dict[str, Any]:
    jobs = [job for r in mode.rounds for job in r.jobs]
    latencies = [job.latency_s for job in jobs if job.ok]
    services = [job.service_s for job in jobs if job.ok and job.service_s is not None]
    return {
        "workers": mode.workers,
        "cluster": mode.cluster,
        "cluster_cpus": mode.cluster_cpus,
        "status": "ok" if mode.error is None else "failed",
        "error": mode.error,
        "rounds": len(mode.rounds),
        "parts": mode.parts,
        "jobs": len(jobs),
        "done": sum(1 for job in jobs if job.ok),
        # Parts the run asked for and did not get, whether the job failed or never ran.
        "failed": mode.parts * max(1, len(mode.rounds)) - sum(1 for job in jobs if job.ok),
        "jobs_per_min": _median([r.jobs_per_min for r in mode.rounds]),
        "wall_s": _median([r.wall_s for r in mode.rounds]),
        "latency_p50_ms": _ms(percentile(latencies, 0.50)),
        "latency_p99_ms": _ms(percentile(latencies, 0.99)),
        "service_p50_ms": _ms(percentile(services, 0.50)),
        "service_p99_ms": _ms(percentile(services, 0.99)),
        "cold_start_s": mode.cold_start_s,
        "ray_start_s": mode.ray_start_s,
        "cold_jobs": sum(1 for job in jobs if (job.load_s or 0.0) > COLD_JOB_LOAD_S),
        "machine_cpu": _median([r.machine_cpu for r in mode.rounds]),
        "own_cpu": _median([r.own_cpu for r in mode.rounds]),
        # The worst round: one disturbed round is enough to doubt a one-round figure.
        "other_cpu": max((r.other_cpu for r in mode.rounds), default=None),
        "failure_reasons": sorted({job.reason for job in jobs if not job.ok and job.reason}),
    }


def summarize(modes: Sequence[ModeResult]) -> dict[str, dict[str, Any]]:
    """mode key → its figures, in run order."""
    return {mode.key: _summary(mode) for mode in modes}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def compare(summary: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Speed-up of the most workers over one, and what Ray costs against the in-process loop."""
    ray_keys = [key for key, entry in summary.items() if entry.get("workers") is not None]
    by_workers = {summary[key]["workers"]: summary[key] for key in ray_keys}
    one = by_workers.get(1)
    most = by_workers[max(by_workers)] if by_workers else None
    local = summary.get(IN_PROCESS)
    out: dict[str, Any] = {
        "speed_up": None,
        "speed_up_workers": None,
        "ray_1_vs_in_process": None,
        "ray_overhead_ms_per_job": None,
    }
    if one is not None and most is not None and most is not one:
        out["speed_up"] = _ratio(most["jobs_per_min"], one["jobs_per_min"])
        out["speed_up_workers"] = most["workers"]
    if one is not None and local is not None:
        out["ray_1_vs_in_process"] = _ratio(one["jobs_per_min"], local["jobs_per_min"])
        if one["wall_s"] is not None and local["wall_s"] is not None and one["parts"]:
            out["ray_overhead_ms_per_job"] = (one["wall_s"] - local["wall_s"]) * 1000.0 / one["parts"]
    return out
