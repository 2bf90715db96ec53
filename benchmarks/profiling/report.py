"""``profile.md``: the commit, the scenario and its result, one table of hot frames per process (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..report.model import RunResult, RunStatus
from .pyspy import GATEWAY, ROLE_LABELS, SESSION_HOST, STORE_OWNER
from .stacks import FrameTime, ProcessProfile

__all__ = [
    "TITLES",
    "ProcessReport",
    "RunInfo",
    "cpu_by_process_line",
    "process_table",
    "profile_markdown",
    "result_line",
]

TITLES: dict[str, str] = {
    GATEWAY: "gateway (atelier serve)",
    SESSION_HOST: f"session host ({ROLE_LABELS[SESSION_HOST]})",
    STORE_OWNER: f"store owner ({ROLE_LABELS[STORE_OWNER]})",
}


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What was run and recorded, for the report's header."""

    scenario: str
    options: Mapping[str, Any]  # the scenario's load, as run
    duration: int  # seconds recorded per process
    sample_rate: int
    py_spy: str  # ``py-spy 0.4.3``
    started: str  # UTC, ISO
    source: Mapping[str, Any]  # ``runner.source_info()``
    cpus: int = 0
    loadavg: float | None = None  # 1-minute load average at the start


@dataclass(frozen=True, slots=True)
class ProcessReport:
    role: str
    pid: int | None
    profile: ProcessProfile | None  # None: no raw stacks to read
    svg: str = ""  # file names within the results folder
    raw: str = ""
    errors: Sequence[str] = field(default_factory=tuple)
    cores: float | None = None  # measured over the step (psutil), when known


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def result_line(result: RunResult) -> str:
    """The scenario's headline: rate, deliveries/s, latency, errors, CPU (pure)."""
    if result.status != RunStatus.OK:
        return f"**{result.status}**: {result.error}"
    if not result.steps:
        return "no measured step"
    step = result.steps[-1]
    parts = [f"offered {step.offered_rate:,.0f} edits/s", f"{step.deliveries_per_s:,.0f} deliveries/s"]
    if step.expected:
        parts.append(f"delivered {100.0 * step.delivered / step.expected:.2f} %")
    parts.append(f"p50/p99 {_ms(step.latency.percentile_ms(0.5))}/{_ms(step.latency.percentile_ms(0.99))} ms")
    if step.ack_latency.count:
        ack50, ack99 = step.ack_latency.percentile_ms(0.5), step.ack_latency.percentile_ms(0.99)
        parts.append(f"ack p50/p99 {_ms(ack50)}/{_ms(ack99)} ms")
    parts.append(f"{step.errors} errors")
    parts.append(f"server CPU {step.server_cpu:.2f} cores")
    parts.append(f"client CPU {step.client_cpu:.2f}, other CPU {step.other_cpu:.2f}")
    reason = result.extra.get("stop_reason")
    if reason is not None:
        sustained = float(result.extra.get("max_sustained_rate", 0.0)) > 0
        parts.append("step sustained" if sustained else f"not sustained: {reason}")
    return ", ".join(parts)


def cpu_by_process_line(result: RunResult) -> str:
    """Cores per server process label over the step, busiest first ("" when not measured)."""
    cores: Mapping[str, float] = result.extra.get("server_cpu_by_process", {})
    shown = [f"{label} {value:.2f}" for label, value in cores.items() if value >= 0.005]
    return ", ".join(shown)


def _cell(frame: FrameTime) -> str:
    text = str(frame.frame).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def process_table(profile: ProcessProfile) -> str:
    """The top frames by self time, then by total time, in one Markdown table (pure)."""
    lines = ["| time | # | % of samples | samples | frame |", "|---|---:|---:|---:|---|"]
    for kind, rows in (("self", profile.by_self), ("total", profile.by_total)):
        for rank, row in enumerate(rows, start=1):
            lines.append(f"| {kind} | {rank} | {row.percent:.1f} | {row.samples:,} | {_cell(row)} |")
    return "\n".join(lines)


def _commit(source: Mapping[str, Any]) -> str:
    commit = str(source.get("commit", "unknown"))
    if not source.get("dirty"):
        return f"`{commit}`"
    files = int(source.get("dirty_files", 0))
    return (
        f"`{commit}` + uncommitted changes ({files} file{'' if files == 1 else 's'}, "
        f"{source.get('changed_files', 0)} of them in actors/, gateway/, storage/)"
    )


def _process_section(report: ProcessReport, info: RunInfo) -> list[str]:
    title = TITLES.get(report.role, report.role)
    lines = [f"## {title}" + ("" if report.pid is None else f", pid {report.pid}"), ""]
    if report.pid is None:
        return [*lines, "not found in the server's process tree", ""]
    facts = []
    profile = report.profile
    if profile is not None:
        expected = info.sample_rate * info.duration
        busy = f" (≈{profile.samples / expected:.2f} of a core busy)" if expected else ""
        facts.append(f"{profile.samples:,} CPU samples{busy}")
    if report.cores is not None:
        facts.append(f"{report.cores:.2f} cores measured over the step")
    files = [f"[{name}]({name})" for name in (report.svg, report.raw) if name]
    if files:
        facts.append("files: " + ", ".join(files))
    if facts:
        lines += ["; ".join(facts), ""]
    lines += [f"- py-spy: {error}" for error in report.errors]
    if report.errors:
        lines.append("")
    if profile is None or profile.samples == 0:
        lines += ["no CPU samples: the process was idle (or not recorded) during the recording", ""]
    else:
        lines += [process_table(profile), ""]
    return lines


def profile_markdown(info: RunInfo, result: RunResult, processes: Sequence[ProcessReport]) -> str:
    """The whole ``profile.md`` (pure)."""
    options = ", ".join(f"{key}={value}" for key, value in info.options.items())
    machine = f"{info.cpus} CPUs" if info.cpus else "this machine"
    if info.loadavg is not None:
        machine += f", 1-minute load average {info.loadavg:.2f} at the start"
    lines = [
        f"# Profile: {info.scenario} against atelier",
        "",
        f"- **commit**: {_commit(info.source)}",
        f"- **scenario**: {info.scenario} ({options}); load sized to outlast the recording",
        f"- **recording**: {info.py_spy}, {info.sample_rate} samples/s for {info.duration} s per process, "
        f"non-blocking, CPU time only (idle threads left out); started {info.started}",
        f"- **result**: {result_line(result)}",
    ]
    by_process = cpu_by_process_line(result)
    if by_process:
        lines.append(f"- **server CPU by process** (cores over the step): {by_process}")
    lines += [f"- **machine**: {machine}", ""]
    lines += [
        "*self*: samples with that line running (or calling into C), per line; *total*: samples "
        "with the function anywhere on the stack, per function (all its lines and calls).",
        "",
        "A sample counts every thread the OS shows running or runnable. On a busy machine (high "
        "*other CPU*) threads that were woken and wait for a core count too — under "
        "`EpollSelector.select`, Ray's `Worker.main_loop` or a queue's `get` — so py-spy's share "
        "of a core can exceed the cores measured; compare the two per process.",
        "",
    ]
    for report in processes:
        lines += _process_section(report, info)
    return "\n".join(lines).rstrip() + "\n"
