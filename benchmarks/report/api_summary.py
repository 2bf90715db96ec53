"""Summaries of the API scenarios (stages, runs, mixed) and of scale runs (pure).

Same rules as ``summary``: percentiles from the histograms of every successful round merged,
rates and memory the median over rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from ..stats import Histogram
from .model import MIB, RunResult, StepResult

__all__ = [
    "API_METRICS",
    "SCALE_METRICS",
    "main_latency",
    "mixed_summary",
    "runs_summary",
    "scale_summary",
    "stages_summary",
    "throughput",
]

# (key, header, digits, lower is better, in the ratio table); built into Metric by summary.py.
API_METRICS: dict[str, list[tuple[str, str, int, bool, bool]]] = {
    "stages": [
        ("flows", "flows", 0, False, False),
        ("stages", "stages", 0, False, False),
        ("events", "events", 0, False, False),
        ("events_per_s", "events/s", 0, False, False),
        ("first_event_p50", "first event p50 ms", 1, True, False),
        ("first_event_p99", "first event p99 ms", 1, True, False),
        ("event_p50", "event→wire p50 ms", 1, True, False),
        ("event_p99", "event→wire p99 ms", 1, True, False),
        ("stage_p50", "stage p50 ms", 1, True, False),
        ("stage_p99", "stage p99 ms", 1, True, False),
        ("rejoins", "rejoins", 0, False, False),
        ("events_lost", "events lost", 0, True, False),
        ("events_duplicated", "events duplicated", 0, True, False),
        ("errors", "errors", 0, True, False),
        ("server_cpu", "server CPU (cores)", 2, True, False),
        ("client_cpu", "client CPU (cores)", 2, True, False),
        ("peak_pss_mib", "peak PSS MiB", 0, True, False),
    ],
    "runs": [
        ("runs_ok", "runs ok", 0, False, False),
        ("runs_per_s", "runs/s", 1, False, False),
        ("run_p50", "run p50 ms", 1, True, False),
        ("run_p99", "run p99 ms", 1, True, False),
        ("file_p50", "with file p50 ms", 1, True, False),
        ("plain_p50", "no file p50 ms", 1, True, False),
        ("quota_refusals", "quota refusals", 0, True, False),
        ("errors", "errors", 0, True, False),
        ("server_cpu", "server CPU (cores)", 2, True, False),
        ("client_cpu", "client CPU (cores)", 2, True, False),
        ("peak_pss_mib", "peak PSS MiB", 0, True, False),
    ],
    "mixed": [
        ("p99", "editor→editor p99 ms", 2, True, False),
        ("deliveries_per_s", "deliveries/s", 0, False, False),
        ("delivered_pct", "delivered %", 2, False, False),
        ("op_to_editor_p99", "op→editor p99 ms", 2, True, False),
        ("ops_per_s", "ops/s", 1, False, False),
        ("events_per_s", "stage events/s", 0, False, False),
        ("stage_p99", "stage p99 ms", 1, True, False),
        ("runs_per_s", "runs/s", 1, False, False),
        ("run_p99", "run p99 ms", 1, True, False),
        ("errors", "errors", 0, True, False),
        ("server_cpu", "server CPU (cores)", 2, True, False),
        ("client_cpu", "client CPU (cores)", 2, True, False),
        ("peak_pss_mib", "peak PSS MiB", 0, True, False),
    ],
}
API_METRICS["stages-rejoin"] = API_METRICS["stages"]

SCALE_METRICS: list[tuple[str, str, int, bool, bool]] = [
    ("size", "size", 0, False, False),
    ("latency_p50", "latency p50 ms", 2, True, False),
    ("latency_p99", "latency p99 ms", 2, True, False),
    ("throughput", "throughput /s", 1, False, False),
    ("server_cpu", "server CPU (cores)", 2, True, False),
    ("client_cpu", "client CPU (cores)", 2, True, False),
    ("peak_pss_mib", "peak PSS MiB", 0, True, False),
    ("errors", "errors", 0, True, False),
]


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _hist(steps: Iterable[StepResult], name: str) -> Histogram:
    return Histogram.merged(step.hists.get(name, Histogram()) for step in steps)


def _count(steps: Iterable[StepResult], name: str) -> int:
    return sum(step.counts.get(name, 0) for step in steps)


def _per_s(steps: Sequence[StepResult], name: str) -> float | None:
    return _median(step.counts.get(name, 0) / step.wall if step.wall > 0 else None for step in steps)


def _common(runs: Sequence[RunResult], steps: Sequence[StepResult]) -> dict[str, Any]:
    return {
        "errors": sum(s.errors + s.rejected for s in steps),
        "server_cpu": _median(s.server_cpu for s in steps),
        "client_cpu": _median(s.client_cpu for s in steps),
        "peak_pss_mib": _median(r.memory.peak_pss / MIB for r in runs if r.memory),
    }


def stages_summary(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    first, event, stage = (_hist(steps, n) for n in ("first_event", "event_latency", "stage_duration"))
    return {
        **{name: _count(steps, name) for name in ("flows", "stages", "events", "rejoins")},
        "events_lost": _count(steps, "events_lost"),
        "events_duplicated": _count(steps, "events_duplicated"),
        "events_per_s": _per_s(steps, "events"),
        "first_event_p50": first.percentile_ms(0.50),
        "first_event_p99": first.percentile_ms(0.99),
        "event_p50": event.percentile_ms(0.50),
        "event_p99": event.percentile_ms(0.99),
        "stage_p50": stage.percentile_ms(0.50),
        "stage_p99": stage.percentile_ms(0.99),
        **_common(runs, steps),
    }


def runs_summary(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    latency = _hist(steps, "run_latency")
    return {
        "runs_ok": _count(steps, "runs_ok"),
        "runs_per_s": _per_s(steps, "runs_ok"),
        "run_p50": latency.percentile_ms(0.50),
        "run_p99": latency.percentile_ms(0.99),
        "file_p50": _hist(steps, "run_latency_file").percentile_ms(0.50),
        "plain_p50": _hist(steps, "run_latency_plain").percentile_ms(0.50),
        "quota_refusals": _count(steps, "quota_refusals"),
        **_common(runs, steps),
    }


def mixed_summary(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    latency = Histogram.merged(s.latency for s in steps)
    expected = sum(s.expected for s in steps)
    return {
        "p99": latency.percentile_ms(0.99),
        "deliveries_per_s": _median(s.deliveries_per_s for s in steps),
        "delivered_pct": 100.0 * sum(s.delivered for s in steps) / expected if expected else None,
        "op_to_editor_p99": Histogram.merged(s.agent_latency for s in steps).percentile_ms(0.99),
        "ops_per_s": _median(s.agent_ops / s.duration for s in steps if s.duration > 0),
        "events_per_s": _per_s(steps, "events"),
        "stage_p99": _hist(steps, "stage_duration").percentile_ms(0.99),
        "runs_per_s": _per_s(steps, "runs_ok"),
        "run_p99": _hist(steps, "run_latency").percentile_ms(0.99),
        **_common(runs, steps),
        "errors": sum(s.errors + s.rejected + s.pending_acks for s in steps),
    }


def main_latency(scenario: str, step: StepResult) -> Histogram:
    """The latency a scale plot follows for ``scenario``."""
    if scenario in ("stages", "stages-rejoin"):
        return step.hists.get("event_latency", Histogram())
    if scenario == "runs":
        return step.hists.get("run_latency", Histogram())
    if scenario == "sessions":
        return step.ack_latency
    return step.latency


def throughput(scenario: str, step: StepResult) -> float | None:
    """What a scale plot counts per second: deliveries, events, runs, ops or edits."""
    if step.wall <= 0:
        return None
    if scenario in ("stages", "stages-rejoin"):
        return step.counts.get("events", 0) / step.wall
    if scenario == "runs":
        return step.counts.get("runs_ok", 0) / step.wall
    if scenario == "rest-ops":
        return step.agent_ops / step.duration if step.duration > 0 else None
    if scenario == "sessions":
        return None
    return step.deliveries_per_s


def scale_summary(runs: Sequence[RunResult]) -> dict[str, Any]:
    """``by_size``: size → the scenario's main latency, throughput, CPU, memory and errors."""
    by_size: dict[int, list[RunResult]] = {}
    for run in runs:
        by_size.setdefault(int(run.params.get("scale_size", 0)), []).append(run)
    rows: dict[int, dict[str, Any]] = {}
    for size, sized in sorted(by_size.items()):
        scenario = str(sized[0].params.get("scale_scenario", ""))
        steps = [s for r in sized for s in r.steps]
        latency = Histogram.merged(main_latency(scenario, s) for s in steps)
        rows[size] = {
            "size": size,
            "latency_p50": latency.percentile_ms(0.50),
            "latency_p99": latency.percentile_ms(0.99),
            "throughput": _median(throughput(scenario, s) for s in steps),
            **_common(sized, steps),
            "errors": sum(s.errors + s.rejected + s.pending_acks for s in steps),
        }
    scenario = str(runs[0].params.get("scale_scenario", "")) if runs else ""
    return {"scale_scenario": scenario, "by_size": rows}
