"""PNG plots (matplotlib, Agg): latency distributions, latency vs offered load, memory per session.

The data for each plot is computed by a pure function (``cdf_series``, ``load_series``,
``memory_series``) and then drawn; the drawing is the only part that touches matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from ..stats import Histogram
from .api_summary import scale_summary
from .markdown import TITLES
from .model import RunResult, RunStatus

__all__ = ["cdf_series", "load_series", "memory_series", "scale_series", "write_plots"]

Series = dict[str, list[tuple[float, float]]]


def cdf_series(runs: Sequence[RunResult], scenario: str, histogram: str = "latency") -> Series:
    """target → (latency ms, fraction ≤) over all successful rounds of ``scenario``."""
    merged: dict[str, Histogram] = {}
    for run in runs:
        if run.scenario != scenario or run.status != RunStatus.OK:
            continue
        into = merged.setdefault(run.target, Histogram())
        for step in run.steps:
            into.merge(getattr(step, histogram))
    return {target: h.cdf_ms() for target, h in merged.items() if h.count}


def load_series(runs: Sequence[RunResult], quantile: float) -> Series:
    """target → (offered edits/s, delivery latency quantile ms) from the saturate steps."""
    by_rate: dict[str, dict[float, Histogram]] = {}
    for run in runs:
        if run.scenario != "saturate" or run.status != RunStatus.OK:
            continue
        for step in run.steps:
            rates = by_rate.setdefault(run.target, {})
            rates.setdefault(round(step.offered_rate, 3), Histogram()).merge(step.latency)
    series: Series = {}
    for target, rates in by_rate.items():
        points = []
        for offered in sorted(rates):
            value = rates[offered].percentile_ms(quantile)
            if value is not None:
                points.append((offered, value))
        if points:
            series[target] = points
    return series


def _title(target: str) -> str:
    return TITLES.get(target, target)


def _plot_cdf(series: Series, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    for target, points in series.items():
        xs = [max(x, 1e-3) for x, _ in points]
        ys = [y for _, y in points]
        ax.step(xs, ys, where="post", label=_title(target))
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of deliveries ≤ latency")
    ax.set_ylim(0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_load(p50: Series, p99: Series, bound_ms: float | None, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    colours: dict[str, Any] = {}
    for target, points in p99.items():
        (line,) = ax.plot(
            [x for x, _ in points], [y for _, y in points], marker="o", label=f"{_title(target)} p99"
        )
        colours[target] = line.get_color()
    for target, points in p50.items():
        ax.plot(
            [x for x, _ in points],
            [y for _, y in points],
            linestyle="--",
            marker=".",
            color=colours.get(target),
            label=f"{_title(target)} p50",
        )
    if bound_ms is not None:
        ax.axhline(bound_ms, color="grey", linestyle=":", label=f"p99 bound {bound_ms:g} ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered edits/s (all editors, log scale)")
    ax.set_ylabel("delivery latency (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("saturate: latency vs offered load")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def memory_series(runs: Sequence[RunResult]) -> dict[str, dict[int, float]]:
    """target → live sessions → PSS MiB per session, the mean over successful rounds (pure)."""
    values: dict[str, dict[int, list[float]]] = {}
    for run in runs:
        if run.scenario != "sessions" or run.status != RunStatus.OK:
            continue
        stages = run.extra.get("sizes") or [run.extra]
        for stage in stages:
            if "pss_per_session_mib" in stage:
                size = int(stage.get("sessions", 0))
                values.setdefault(run.target, {}).setdefault(size, []).append(
                    float(stage["pss_per_session_mib"])
                )
    return {
        target: {size: sum(v) / len(v) for size, v in sorted(sizes.items())}
        for target, sizes in values.items()
    }


def _plot_memory(runs: Sequence[RunResult], path: Path) -> bool:
    series = memory_series(runs)
    if not series:
        return False
    sizes = sorted({size for by_size in series.values() for size in by_size})
    targets = list(series)
    width = 0.8 / len(sizes)
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(targets) * len(sizes)), 4.5))
    for offset, size in enumerate(sizes):
        xs = [index + (offset - (len(sizes) - 1) / 2) * width for index in range(len(targets))]
        # PSS growth below zero is noise around a few KiB: drawn at the axis floor, labelled ≈0.
        values = [series[t].get(size) for t in targets]
        heights = [max(v, 1e-3) if v is not None else 0.0 for v in values]
        ax.bar(xs, heights, width, label=f"{size:,} live sessions")
        for x, value in zip(xs, values, strict=True):
            if value is not None:
                text = f"{value:.3g}" if value > 0 else "≈0"
                ax.annotate(text, (x, max(value, 1e-3)), ha="center", va="bottom", fontsize="small")
    ax.set_xticks(range(len(targets)), [_title(t) for t in targets])
    ax.set_yscale("log")
    ax.set_ylabel("PSS MiB per live session (log scale)")
    ax.set_title("sessions: memory per live session")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


_SCALE_PANELS = (
    ("latency_p99", "latency p99 (ms)"),
    ("throughput", "throughput (per s)"),
    ("server_cpu", "server CPU (cores)"),
    ("peak_pss_mib", "server peak PSS (MiB)"),
)


def scale_series(runs: Sequence[RunResult]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """metric → target → (size, value) from the successful scale runs (pure)."""
    by_target: dict[str, list[RunResult]] = {}
    for run in runs:
        if run.scenario == "scale" and run.status == RunStatus.OK:
            by_target.setdefault(run.target, []).append(run)
    series: dict[str, dict[str, list[tuple[float, float]]]] = {key: {} for key, _ in _SCALE_PANELS}
    series["latency_p50"] = {}
    for target, target_runs in by_target.items():
        rows = scale_summary(target_runs)["by_size"]
        for key in series:
            points = [
                (float(size), float(row[key]))
                for size, row in sorted(rows.items())
                if row.get(key) is not None
            ]
            if points:
                series[key][target] = points
    return series


def _plot_scale(runs: Sequence[RunResult], path: Path) -> bool:
    series = scale_series(runs)
    if not any(series.values()):
        return False
    scenario = next((str(r.params.get("scale_scenario")) for r in runs if r.scenario == "scale"), "")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for ax, (key, label) in zip(axes.flat, _SCALE_PANELS, strict=True):
        for target, points in series[key].items():
            (line,) = ax.plot(
                [x for x, _ in points],
                [y for _, y in points],
                marker="o",
                label=f"{_title(target)} p99" if key == "latency_p99" else _title(target),
            )
            if key == "latency_p99" and target in series["latency_p50"]:
                p50 = series["latency_p50"][target]
                ax.plot(
                    [x for x, _ in p50],
                    [y for _, y in p50],
                    linestyle="--",
                    marker=".",
                    color=line.get_color(),
                    label=f"{_title(target)} p50",
                )
        ax.set_xlabel(f"size ({scenario})")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if series[key]:
            ax.legend(fontsize="small")
    fig.suptitle(f"scale: {scenario} at growing sizes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_plots(runs: Sequence[RunResult], out_dir: Path, p99_bound_ms: float | None = None) -> list[str]:
    """Draw every plot the runs have data for; returns the file names written."""
    written: list[str] = []
    for scenario in ("fanout", "rooms", "rest-ops", "mixed"):
        series = cdf_series(runs, scenario)
        if series:
            name = f"latency_cdf_{scenario}.png"
            _plot_cdf(series, out_dir / name, f"{scenario}: delivery latency distribution")
            written.append(name)
    p99 = load_series(runs, 0.99)
    if p99:
        _plot_load(load_series(runs, 0.50), p99, p99_bound_ms, out_dir / "latency_vs_load.png")
        written.append("latency_vs_load.png")
    if _plot_memory(runs, out_dir / "memory_per_session.png"):
        written.append("memory_per_session.png")
    if _plot_scale(runs, out_dir / "scale.png"):
        written.append("scale.png")
    return written
