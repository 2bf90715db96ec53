"""From runs to the numbers a reader compares (pure): per scenario and target, and ratios.

Latency percentiles come from the histograms of all successful rounds merged; rates and
memory are the median over rounds (robust to one noisy round). A target with no successful
round shows its status and first error instead of numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..stats import Histogram
from .api_summary import (
    API_METRICS,
    SCALE_METRICS,
    mixed_summary,
    runs_summary,
    scale_summary,
    stages_summary,
)
from .model import MIB, RunResult, RunStatus, StepResult

__all__ = [
    "DEFLATE",
    "DEFLATE_METRICS",
    "METRICS",
    "RATIO_BASE",
    "Metric",
    "deflate_rows",
    "metrics_for",
    "ratios",
    "spread",
    "summarize",
]

RATIO_BASE = "atelier"
# The label suffix of a realtime scenario run with permessage-deflate offered (--compress both).
DEFLATE = "+deflate"


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    header: str
    digits: int = 1
    lower_is_better: bool = True
    ratio: bool = False  # shown in the atelier/peer table


METRICS: dict[str, list[Metric]] = {
    "fanout": [
        Metric("p50", "p50 ms", 2, ratio=True),
        Metric("p95", "p95 ms", 2, ratio=True),
        Metric("p99", "p99 ms", 2, ratio=True),
        Metric("ack_p50", "ack p50 ms", 2, ratio=True),
        Metric("ack_p99", "ack p99 ms", 2),
        Metric("deliveries_per_s", "deliveries/s", 0, lower_is_better=False, ratio=True),
        Metric("delivered_pct", "delivered %", 2, lower_is_better=False),
        Metric("errors", "errors", 0),
        Metric("server_cpu", "server CPU (cores)", 2, ratio=True),
        Metric("client_cpu", "client CPU (cores)", 2),
        Metric("other_cpu", "other CPU (cores)", 2),
        Metric("peak_pss_mib", "peak PSS MiB", 0, ratio=True),
    ],
    "rooms": [
        Metric("p50", "p50 ms", 2, ratio=True),
        Metric("p99", "p99 ms", 2, ratio=True),
        Metric("ack_p50", "ack p50 ms", 2, ratio=True),
        Metric("ack_p99", "ack p99 ms", 2),
        Metric("deliveries_per_s", "deliveries/s", 0, lower_is_better=False, ratio=True),
        Metric("delivered_pct", "delivered %", 2, lower_is_better=False),
        Metric("errors", "errors", 0),
        Metric("server_cpu", "server CPU (cores)", 2, ratio=True),
        Metric("client_cpu", "client CPU (cores)", 2),
        Metric("other_cpu", "other CPU (cores)", 2),
        Metric("send_lag_p99", "send lag p99 ms", 1),
        Metric("join_p99", "join p99 ms", 1),
        Metric("peak_pss_mib", "peak PSS MiB", 0, ratio=True),
        Metric("pss_per_room_mib", "PSS MiB / room", 3),
    ],
    "saturate": [
        Metric("max_sustained", "max sustained edits/s", 0, lower_is_better=False, ratio=True),
        Metric("max_sustained_min", "min over rounds", 0, lower_is_better=False),
        Metric("deliveries_at_max", "deliveries/s at max", 0, lower_is_better=False),
        Metric("p99_at_max", "p99 ms at max", 2),
        Metric("server_cpu_at_max", "server CPU at max", 2),
        Metric("client_cpu_at_max", "client CPU at max", 2),
        Metric("other_cpu_at_max", "other CPU at max", 2),
    ],
    "rooms-saturate": [
        Metric("max_sustained", "max sustained edits/s", 0, lower_is_better=False, ratio=True),
        Metric("max_sustained_min", "min over rounds", 0, lower_is_better=False),
        Metric("per_editor_at_max", "edits/s per editor at max", 2, lower_is_better=False),
        Metric("deliveries_at_max", "deliveries/s at max", 0, lower_is_better=False),
        Metric("p50_at_max", "p50 ms at max", 2, ratio=True),
        Metric("p99_at_max", "p99 ms at max", 2, ratio=True),
        Metric("server_cpu_at_max", "server CPU at max", 2),
        Metric("client_cpu_at_max", "client CPU at max", 2),
        Metric("other_cpu_at_max", "other CPU at max", 2),
        Metric("hosts", "SessionHost processes", 0),
        Metric("host_sessions", "sessions per host (min–max)", 0),
        Metric("host_cores", "host CPU at max (min–max)", 2),
    ],
    "sessions": [
        Metric("sessions", "live sessions", 0, lower_is_better=False),
        Metric("pss_per_session_mib", "PSS MiB / session", 3, ratio=True),
        Metric("rss_per_session_mib", "RSS MiB / session", 3),
        Metric("baseline_pss_mib", "idle server PSS MiB", 0, ratio=True),
        Metric("activation_p50", "activation p50 ms", 1, ratio=True),
        Metric("activation_p99", "activation p99 ms", 1),
        Metric("create_p50", "REST create p50 ms", 1),
        Metric("sync_p50", "first sync p50 ms", 1),
        Metric("ack_p50", "edit ack p50 ms", 2),
        Metric("errors", "errors", 0),
    ],
    "rest-ops": [
        Metric("ops_per_s", "ops/s", 1, lower_is_better=False),
        Metric("http_p50", "REST p50 ms", 2),
        Metric("http_p99", "REST p99 ms", 2),
        Metric("op_to_editor_p50", "op→editor p50 ms", 2),
        Metric("op_to_editor_p99", "op→editor p99 ms", 2),
        Metric("editor_p99", "editor→editor p99 ms", 2),
        Metric("delivered_pct", "delivered %", 2, lower_is_better=False),
        Metric("errors", "errors", 0),
    ],
}


METRICS.update(
    {
        name: [Metric(key, header, digits, lower, ratio) for key, header, digits, lower, ratio in rows]
        for name, rows in {**API_METRICS, "scale": SCALE_METRICS}.items()
    }
)

# Figures that describe the server's own processes: not measured when it is remote.
_SERVER_KEYS = ("server_cpu", "peak_pss", "pss_per", "rss_per", "baseline_pss")


def _unmeasured(entry: dict[str, Any]) -> None:
    for key in list(entry):
        if key.startswith(_SERVER_KEYS):
            entry[key] = None
    for row in entry.get("by_size", {}).values():
        _unmeasured(row)


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _merged(steps: Iterable[StepResult], name: str) -> Histogram:
    return Histogram.merged(getattr(step, name) for step in steps)


def _pct(delivered: int, expected: int) -> float | None:
    return 100.0 * delivered / expected if expected else None


def _fanout(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    latency = _merged(steps, "latency")
    acks = _merged(steps, "ack_latency")
    return {
        "p50": latency.percentile_ms(0.50),
        "p95": latency.percentile_ms(0.95),
        "p99": latency.percentile_ms(0.99),
        "ack_p50": acks.percentile_ms(0.50),
        "ack_p99": acks.percentile_ms(0.99),
        "deliveries_per_s": _median(s.deliveries_per_s for s in steps),
        "delivered_pct": _pct(sum(s.delivered for s in steps), sum(s.expected for s in steps)),
        "errors": sum(s.errors + s.rejected for s in steps),
        "server_cpu": _median(s.server_cpu for s in steps),
        "client_cpu": _median(s.client_cpu for s in steps),
        "other_cpu": _median(s.other_cpu for s in steps),
        "peak_pss_mib": _median(r.memory.peak_pss / MIB for r in runs if r.memory),
    }


def _rooms(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    entry = _fanout(runs)
    del entry["p95"]
    entry.update(
        errors=sum(s.errors + s.rejected + s.pending_acks for s in steps),
        send_lag_p99=_merged(steps, "send_lag").percentile_ms(0.99),
        join_p99=Histogram.merged(r.sync for r in runs).percentile_ms(0.99),
        pss_per_room_mib=_median(r.extra.get("pss_per_room_mib") for r in runs),
    )
    return entry


def _at_max(run: RunResult) -> StepResult | None:
    """The last sustained step of a saturate run."""
    best = run.extra.get("max_sustained_rate", 0.0)
    for step in run.steps:
        if step.offered_rate == best:
            return step
    return None


def _saturate(runs: Sequence[RunResult]) -> dict[str, Any]:
    sustained = [float(r.extra.get("max_sustained_rate", 0.0)) for r in runs]
    at_max = [s for s in (_at_max(r) for r in runs) if s is not None]
    return {
        "max_sustained": _median(sustained),
        "max_sustained_min": min(sustained) if sustained else None,
        "deliveries_at_max": _median(s.deliveries_per_s for s in at_max),
        "p99_at_max": _median(s.latency.percentile_ms(0.99) for s in at_max),
        "server_cpu_at_max": _median(s.server_cpu for s in at_max),
        "client_cpu_at_max": _median(s.client_cpu for s in at_max),
        "other_cpu_at_max": _median(s.other_cpu for s in at_max),
        "client_bound": any(bool(r.extra.get("client_bound")) for r in runs),
        "stop_reasons": [str(r.extra.get("stop_reason", "")) for r in runs],
    }


def _range(values: Sequence[float | int | None], digits: int) -> str | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    low, high = min(present), max(present)
    return f"{low:,.{digits}f}" if low == high else f"{low:,.{digits}f}–{high:,.{digits}f}"


def _rooms_saturate(runs: Sequence[RunResult]) -> dict[str, Any]:
    """saturate's figures, per editor too, and the hosts' balance (from the first round that has it)."""
    entry = _saturate(runs)
    at_max = [s for s in (_at_max(r) for r in runs) if s is not None]
    entry["per_editor_at_max"] = _median(r.extra.get("max_sustained_per_editor") for r in runs)
    entry["p50_at_max"] = _median(s.latency.percentile_ms(0.50) for s in at_max)
    balances = [r.extra["host_balance"] for r in runs if r.extra.get("host_balance")]
    if balances:
        rows = balances[0]
        entry["hosts"] = len(rows)
        entry["host_sessions"] = _range([row["sessions"] for row in rows], 0)
        entry["host_cores"] = _range([row["cores"] for row in rows], 2)
        entry["host_balance"] = [list(b) for b in balances]
    return entry


def _sessions(runs: Sequence[RunResult]) -> dict[str, Any]:
    """The largest size every round reached, plus ``by_size``: one row per size."""
    by_size: dict[int, dict[str, Any]] = {}
    reached = [_stages(r) for r in runs]
    common = set.intersection(*(set(stages) for stages in reached)) if reached else set()
    baseline = _median(r.memory.baseline_pss / MIB for r in runs if r.memory)
    for size in sorted(common):
        stages = [stages[size] for stages in reached]
        steps = [r.steps[s["index"]] for r, s in zip(runs, stages, strict=True) if s["index"] < len(r.steps)]
        activation = Histogram.merged(Histogram.from_dict(s.get("activation", {})) for s in stages)
        create = Histogram.merged(Histogram.from_dict(s.get("create", {})) for s in stages)
        sync = Histogram.merged(Histogram.from_dict(s.get("sync", {})) for s in stages)
        by_size[size] = {
            "sessions": size,
            "pss_per_session_mib": _median(s.get("pss_per_session_mib") for s in stages),
            "rss_per_session_mib": _median(s.get("rss_per_session_mib") for s in stages),
            "baseline_pss_mib": baseline,
            # Stages without their histograms (older results) keep their own percentiles.
            "activation_p50": activation.percentile_ms(0.50)
            if activation.count
            else _median(s.get("activation_ms", {}).get("p50") for s in stages),
            "activation_p99": activation.percentile_ms(0.99)
            if activation.count
            else _median(s.get("activation_ms", {}).get("p99") for s in stages),
            "create_p50": create.percentile_ms(0.50),
            "sync_p50": sync.percentile_ms(0.50),
            "ack_p50": _merged(steps, "ack_latency").percentile_ms(0.50),
            "errors": sum(s.errors + s.rejected + s.pending_acks for s in steps),
        }
    entry: dict[str, Any] = dict(by_size[max(by_size)]) if by_size else {"baseline_pss_mib": baseline}
    entry["by_size"] = by_size
    capped = [int(r.extra["capped_at"]) for r in runs if "capped_at" in r.extra]
    if capped:
        entry["capped_at"] = min(capped)
        entry["requested_sessions"] = max(int(r.extra.get("requested_sessions", 0)) for r in runs)
    return entry


def _stages(run: RunResult) -> dict[int, dict[str, Any]]:
    """size → what the run measured there (``index``: its step); one stage for older results."""
    stages = run.extra.get("sizes")
    if not stages:
        stages = [{**run.extra, "sessions": run.extra.get("sessions", run.params.get("sessions", 0))}]
    return {int(stage["sessions"]): {**stage, "index": index} for index, stage in enumerate(stages)}


def _rest_ops(runs: Sequence[RunResult]) -> dict[str, Any]:
    steps = [s for r in runs for s in r.steps]
    http = _merged(steps, "http_latency")
    agent = _merged(steps, "agent_latency")
    editor = _merged(steps, "latency")
    return {
        "ops_per_s": _median(r.extra.get("ops_per_s") for r in runs),
        "http_p50": http.percentile_ms(0.50),
        "http_p99": http.percentile_ms(0.99),
        "op_to_editor_p50": agent.percentile_ms(0.50),
        "op_to_editor_p99": agent.percentile_ms(0.99),
        "editor_p99": editor.percentile_ms(0.99),
        "delivered_pct": _pct(sum(s.delivered for s in steps), sum(s.expected for s in steps)),
        "errors": sum(s.errors + s.rejected for s in steps),
    }


_SUMMARIZERS = {
    "fanout": _fanout,
    "rooms": _rooms,
    "saturate": _saturate,
    "rooms-saturate": _rooms_saturate,
    "sessions": _sessions,
    "rest-ops": _rest_ops,
    "stages": stages_summary,
    "stages-rejoin": stages_summary,
    "runs": runs_summary,
    "mixed": mixed_summary,
    "scale": scale_summary,
}


def metrics_for(label: str) -> list[Metric]:
    """The metrics of a scenario label (``fanout+deflate`` has fanout's)."""
    return METRICS.get(label.removesuffix(DEFLATE), [])


def spread(per_round: Sequence[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """key → (min, max) over rounds of every figure all rounds have as a number (pure)."""
    if len(per_round) < 2:
        return {}
    keys = set.intersection(*(set(entry) for entry in per_round))
    result: dict[str, tuple[float, float]] = {}
    for key in sorted(keys):
        values = [entry[key] for entry in per_round]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            result[key] = (min(values), max(values))
    return result


def _compression(runs: Sequence[RunResult]) -> str | None:
    """Whether permessage-deflate was agreed (yes, no, partly), when the clients offered it."""
    notes = [r.extra["compression"] for r in runs if r.extra.get("compression", {}).get("offered")]
    answers = {str(note.get("negotiated")) for note in notes}
    if not answers:
        return None
    return answers.pop() if len(answers) == 1 else "partly"


def summarize(runs: Sequence[RunResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """scenario → target → metrics (plus ``status``, ``rounds``, ``ok_rounds``, ``problems``,
    ``spread``: min–max over the successful rounds, ``compression``: deflate agreed or not)."""
    grouped: dict[str, dict[str, list[RunResult]]] = {}
    for run in runs:
        grouped.setdefault(run.scenario, {}).setdefault(run.target, []).append(run)
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario, by_target in grouped.items():
        summary[scenario] = {}
        for target, target_runs in by_target.items():
            ok = [r for r in target_runs if r.status == RunStatus.OK]
            entry: dict[str, Any] = {
                "rounds": len(target_runs),
                "ok_rounds": len(ok),
                "problems": [f"round {r.round + 1}: {r.error}" for r in target_runs if r.error],
                "protocol": next((r.protocol for r in target_runs if r.protocol), ""),
            }
            measured = {str(r.extra.get("server_measured", "local")) for r in target_runs}
            entry["server_measured"] = sorted(measured)[0] if measured else "local"
            compression = _compression(target_runs)
            if compression is not None:
                entry["compression"] = compression
            if ok:
                summarizer = _SUMMARIZERS[scenario.removesuffix(DEFLATE)]
                entry["status"] = RunStatus.OK
                entry.update(summarizer(ok))
                entry["spread"] = spread([summarizer([r]) for r in ok])
                if any(m.startswith("remote") for m in measured):
                    _unmeasured(entry)
                    entry["spread"] = {}
            elif all(r.status == RunStatus.SKIPPED for r in target_runs):
                entry["status"] = RunStatus.SKIPPED
            else:
                entry["status"] = RunStatus.FAILED
            summary[scenario][target] = entry
    return summary


def _ratio(a: Any, b: Any) -> float | None:
    """a/b for two positive numbers (a ratio of noise around zero means nothing)."""
    numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
    if not numbers or isinstance(a, bool) or isinstance(b, bool) or a <= 0 or b <= 0:
        return None
    return float(a) / float(b)


def ratios(
    summary: dict[str, dict[str, dict[str, Any]]], base: str = RATIO_BASE
) -> dict[str, dict[str, dict[str, float | None]]]:
    """scenario → metric → peer → base/peer for the metrics marked ``ratio``."""
    result: dict[str, dict[str, dict[str, float | None]]] = {}
    for scenario, by_target in summary.items():
        mine = by_target.get(base)
        if mine is None or mine.get("status") != RunStatus.OK:
            continue
        table: dict[str, dict[str, float | None]] = {}
        for metric in metrics_for(scenario):
            if not metric.ratio:
                continue
            row: dict[str, float | None] = {}
            for peer, theirs in by_target.items():
                if peer == base:
                    continue
                row[peer] = _ratio(mine.get(metric.key), theirs.get(metric.key))
            table[metric.key] = row
        result[scenario] = table
    return result


# What --compress both sets side by side, per realtime scenario: deflate / plain.
DEFLATE_METRICS: dict[str, tuple[str, ...]] = {
    "fanout": ("server_cpu", "p99"),
    "rooms": ("server_cpu", "p99"),
    "saturate": ("max_sustained", "server_cpu_at_max"),
    "rooms-saturate": ("max_sustained", "server_cpu_at_max"),
    "sessions": ("pss_per_session_mib",),
}


def deflate_rows(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per scenario, target and metric run both ways: plain, deflate, deflate/plain and
    whether the server agreed to compress (pure)."""
    rows: list[dict[str, Any]] = []
    for scenario, keys in DEFLATE_METRICS.items():
        plain, deflate = summary.get(scenario, {}), summary.get(f"{scenario}{DEFLATE}", {})
        for target in [t for t in plain if t in deflate]:
            mine, theirs = plain[target], deflate[target]
            for key in keys:
                rows.append(
                    {
                        "scenario": scenario,
                        "target": target,
                        "metric": key,
                        "plain": mine.get(key),
                        "deflate": theirs.get(key),
                        "ratio": _ratio(theirs.get(key), mine.get(key)),
                        "negotiated": theirs.get("compression", "n/a"),
                    }
                )
    return rows
