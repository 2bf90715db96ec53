"""The cad benchmark's report: results.json, report.md and cad_throughput.png.

``render_markdown`` and ``plot_series`` are pure (results in, text or numbers out); only
``write_report`` touches the disk and only ``_plot`` touches matplotlib.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import orjson

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from ..report.markdown import format_value
from .results import IN_PROCESS, CadResults

__all__ = [
    "PLOT",
    "is_cad_results",
    "load_results",
    "mode_title",
    "plot_series",
    "render_markdown",
    "write_json",
    "write_report",
]

RESULTS_JSON = "results.json"
REPORT_MD = "report.md"
PLOT = "cad_throughput.png"

_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("jobs_per_min", "jobs/min", 0),
    ("wall_s", "wall s", 2),
    ("latency_p50_ms", "latency p50 ms", 1),
    ("latency_p99_ms", "latency p99 ms", 1),
    ("service_p50_ms", "service p50 ms", 1),
    ("cold_start_s", "cold start s", 2),
    ("ray_start_s", "Ray start s", 2),
    ("failed", "parts failed", 0),
    ("own_cpu", "CPU (cores)", 2),
    ("other_cpu", "other CPU (cores)", 2),
)
# Other work on the machine past this many cores during a mode's worst round: flagged in the report.
NOISY_OTHER_CPU = 0.25


def mode_title(key: str, entry: Mapping[str, Any]) -> str:
    if key == IN_PROCESS:
        return "in process (no Ray)"
    title = f"Ray × {entry.get('workers')}"
    if entry.get("cluster") == "reused":
        title += " ²"
    return title


def _header() -> list[str]:
    names = ["mode", *(header for _, header, _ in _COLUMNS)]
    return ["| " + " | ".join(names) + " |", "|---|" + "|".join(["---:"] * len(_COLUMNS)) + "|"]


def _row(key: str, entry: Mapping[str, Any]) -> str:
    cells = []
    for name, _, digits in _COLUMNS:
        value = entry.get(name)
        if name == "ray_start_s" and key == IN_PROCESS:
            value = "–"
        cells.append(format_value(value, digits))
    if entry.get("status") != "ok":
        cells[-1] += f" (**failed**: {_one_line(str(entry.get('error')))})"
    return f"| {mode_title(key, entry)} | " + " | ".join(cells) + " |"


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split()).replace("|", "/")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _per_part(results: CadResults) -> list[str]:
    """Each part's service time (median over every mode and round) and where it failed."""
    service: dict[str, list[float]] = {}
    shapes: dict[str, str] = {}
    failed: dict[str, int] = {}
    for mode in results.modes:
        for round_ in mode.rounds:
            for job in round_.jobs:
                shapes[job.temp_id] = job.shape
                if job.ok and job.service_s is not None:
                    service.setdefault(job.temp_id, []).append(job.service_s * 1000.0)
                elif not job.ok:
                    failed[job.temp_id] = failed.get(job.temp_id, 0) + 1
    materials = {str(n.get("tempId")): n.get("material") for n in results.meta.get("bom", [])}
    lines = ["| part | shape | material | service ms (median) | failed |", "|---|---|---|---:|---:|"]
    for temp_id, shape in shapes.items():
        times = service.get(temp_id)
        median = format_value(statistics.median(times), 1) if times else "n/a"
        lines.append(
            f"| {temp_id} | {shape} | {materials.get(temp_id, '?')} | {median} | {failed.get(temp_id, 0)} |"
        )
    return lines


def _ratio(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def render_markdown(results: CadResults, plots: tuple[str, ...] = ()) -> str:
    data = results.to_dict()
    summary: dict[str, dict[str, Any]] = data["summary"]
    comparison: dict[str, Any] = data["comparison"]
    meta = results.meta
    machine = meta.get("machine", {})
    options = meta.get("options", {})
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    source = meta.get("atelier_source", {})
    dirty = source.get("changed_files", 0)
    revision = f"commit {str(source.get('commit', '?'))[:10]}" + (
        f" + {dirty} uncommitted file(s)" if dirty else ""
    )
    load = ", ".join(str(v) for v in meta.get("load_average", []))
    lines = [
        "# atelier CAD benchmark",
        "",
        f"Run {meta.get('started', '?')} on {machine.get('cpus', '?')} CPUs / "
        f"{machine.get('memory_gib', '?')} GiB, "
        f"Python {machine.get('python', '?')}, {versions}; {options.get('parts', '?')} parts × "
        f"{options.get('rounds', '?')} round(s) per mode; took {meta.get('elapsed_s', '?')} s; "
        f"load average at start {load or '?'}. atelier at {revision}.",
        "",
        "One BOM of Manufacture parts (plates with holes, plates with a boss, L brackets, shafts, "
        "pins, tubes, bushings, trays, blocks), every part a `generate_part` job: build the solid, "
        "export STEP/STL/GLB, measure. *jobs/min*: parts done × 60 / wall (first submit → last "
        "result), median over rounds. *latency*: submit → result at the driver, every part of a "
        "round submitted at once (in process: one after another from the round's start), so it "
        "includes waiting for a free worker. *service*: the job's own time in the worker (build + "
        "export). *cold start*: loading the CAD kernel into fresh workers (one `warm_up` each, all "
        "at once), kept out of the rounds; *Ray start*: `ray.init` of a local loopback cluster. "
        "*CPU*: cores busy in the benchmark's process tree (the jobs, Ray's node) during the rounds, "
        "median; *other CPU*: the rest of the machine's busy cores in the worst round (other "
        "users' work: a noisy-neighbour flag).",
        "",
        *_header(),
        *(_row(key, entry) for key, entry in summary.items()),
        "",
    ]
    most = comparison.get("speed_up_workers")
    notes = []
    if most is not None:
        notes.append(
            f"- speed-up, Ray × {most} over Ray × 1 (jobs/min): **{_ratio(comparison['speed_up'])}**"
        )
    if comparison.get("ray_1_vs_in_process") is not None:
        overhead = comparison.get("ray_overhead_ms_per_job")
        notes.append(
            f"- Ray × 1 against the in-process loop (jobs/min): {_ratio(comparison['ray_1_vs_in_process'])}"
            + (f"; Ray's cost ≈ {overhead:.1f} ms per job" if overhead is not None else "")
        )
    for key, entry in summary.items():
        if entry.get("failure_reasons"):
            reasons = "; ".join(_one_line(r, 120) for r in entry["failure_reasons"][:3])
            notes.append(f"- {mode_title(key, entry)} failures: {reasons}")
        if (entry.get("other_cpu") or 0.0) > NOISY_OTHER_CPU:
            notes.append(
                f"- {mode_title(key, entry)}: **noisy** — other work used {entry['other_cpu']:.2f} cores "
                "in a round; its figures are not comparable (run again, or with more --rounds)"
            )
        if entry.get("cold_jobs"):
            notes.append(
                f"- {mode_title(key, entry)}: {entry['cold_jobs']} job(s) loaded the CAD kernel themselves "
                "(a worker the warm-up did not reach)"
            )
    if any(entry.get("cluster") == "reused" for entry in summary.values()):
        cpus = {int(e.get("cluster_cpus") or 0) for e in summary.values() if e.get("cluster") == "reused"}
        notes.append(
            "- ² ran on a Ray cluster that was already running "
            f"({', '.join(str(c) for c in sorted(cpus))} CPUs): "
            "its size, not the worker count, bounded how many jobs ran at once"
        )
    lines += notes
    lines += ["", "## Parts", "", *_per_part(results)]
    if plots:
        lines += ["", "## Plots", "", *(f"![{name}]({name})" for name in plots)]
    lines.append("")
    return "\n".join(lines)


def plot_series(results: CadResults) -> list[tuple[str, float | None, float | None, float | None]]:
    """(mode title, jobs/min, latency p50 ms, latency p99 ms) per mode that ran (pure)."""
    summary = results.to_dict()["summary"]
    return [
        (mode_title(key, e), e.get("jobs_per_min"), e.get("latency_p50_ms"), e.get("latency_p99_ms"))
        for key, e in summary.items()
        if e.get("jobs_per_min") is not None
    ]


def _plot(results: CadResults, path: Path) -> bool:
    series = plot_series(results)
    if not series:
        return False
    titles = [title for title, *_ in series]
    xs = list(range(len(series)))
    fig, (rate_ax, latency_ax) = plt.subplots(1, 2, figsize=(9, 3.6))
    rates = [rate or 0.0 for _, rate, _, _ in series]
    bars = rate_ax.bar(xs, rates, color="tab:blue")
    rate_ax.bar_label(bars, labels=[f"{r:,.0f}" for r in rates], fontsize="small")
    rate_ax.set_xticks(xs, titles, fontsize="small")
    rate_ax.set_ylim(0, max(rates) * 1.2 or 1.0)
    rate_ax.set_ylabel("CAD jobs per minute")
    rate_ax.set_title("throughput (higher is better)", fontsize="medium")
    width = 0.38
    tallest = max(float(point[3] or point[2] or 0.0) for point in series)
    for offset, (index, name) in ((-width / 2, (2, "p50")), (width / 2, (3, "p99"))):
        values = [float(point[index] or 0.0) for point in series]
        drawn = latency_ax.bar([x + offset for x in xs], values, width, label=name)
        latency_ax.bar_label(drawn, labels=[f"{v:,.0f}" for v in values], fontsize="x-small")
    latency_ax.set_xticks(xs, titles, fontsize="small")
    latency_ax.set_ylabel("job latency ms (submit → result)")
    latency_ax.set_title("latency (lower is better)", fontsize="medium")
    latency_ax.set_ylim(0, tallest * 1.35 or 1.0)  # room for the labels and the legend above the bars
    latency_ax.legend(fontsize="small", ncols=2, loc="upper center")
    parts = results.meta.get("options", {}).get("parts", "?")
    fig.suptitle(f"CAD jobs: a {parts}-part BOM on {results.meta.get('machine', {}).get('cpus', '?')} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_json(results: CadResults, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS_JSON
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(results.to_dict(), option=orjson.OPT_INDENT_2))
    tmp.replace(path)
    return path


def write_report(results: CadResults, out_dir: Path) -> dict[str, Path]:
    """JSON, Markdown and the plot; returns what was written by kind."""
    json_path = write_json(results, out_dir)
    plots = (PLOT,) if _plot(results, out_dir / PLOT) else ()
    md_path = out_dir / REPORT_MD
    md_path.write_text(render_markdown(results, plots))
    written = {"json": json_path, "markdown": md_path}
    written.update({name: out_dir / name for name in plots})
    return written


def load_results(path: Path) -> CadResults:
    return CadResults.from_dict(orjson.loads(path.read_bytes()))


def is_cad_results(path: Path) -> bool:
    """Whether a results.json was written by the cad benchmark (for ``python -m benchmarks report``)."""
    return bool(orjson.loads(path.read_bytes()).get("kind") == "cad")
