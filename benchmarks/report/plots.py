"""PNG plots (matplotlib, Agg): latency distribution per target, latency vs offered load.

The data for each plot is computed by a pure function (``cdf_series``, ``load_series``)
and then drawn; the drawing is the only part that touches matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from ..stats import Histogram  # noqa: E402
from .markdown import TITLES  # noqa: E402
from .model import RunResult, RunStatus  # noqa: E402

__all__ = ["cdf_series", "load_series", "write_plots"]

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
        (line,) = ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=f"{_title(target)} p99")
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


def _plot_memory(runs: Sequence[RunResult], path: Path) -> bool:
    values: dict[str, list[float]] = {}
    for run in runs:
        if run.scenario == "sessions" and run.status == RunStatus.OK and "pss_per_session_mib" in run.extra:
            values.setdefault(run.target, []).append(float(run.extra["pss_per_session_mib"]))
    if not values:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    targets = list(values)
    means = [sum(v) / len(v) for v in values.values()]
    ax.bar([_title(t) for t in targets], means)
    ax.set_yscale("log")
    ax.set_ylabel("PSS MiB per live session (log scale)")
    ax.set_title("sessions: memory per live session")
    for index, value in enumerate(means):
        ax.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_plots(runs: Sequence[RunResult], out_dir: Path, p99_bound_ms: float | None = None) -> list[str]:
    """Draw every plot the runs have data for; returns the file names written."""
    written: list[str] = []
    for scenario in ("fanout", "rest-ops"):
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
    return written

