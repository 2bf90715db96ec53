"""Runs scenarios against targets, alternating, one fresh server per run, and never hangs.

Order: for each scenario, for each round, every target once; the target order rotates
each round, so slow drifts of a noisy machine spread over all targets and the ratios hold.
A target that fails to install, start or finish is recorded as failed with its reason and
the comparison goes on with the others. Every run is bounded by a hard time budget.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from .config import (
    REALTIME,
    SCENARIOS,
    RunOptions,
    ScaleOptions,
    ScenarioOptions,
    rounds_for,
    scale_sizes,
    scaled,
)
from .loadgen.pool import PoolError
from .machine import busy_reasons, during, sample_machine
from .progress import NullProgress, ProgressSink
from .report.model import RunResult, RunStatus
from .report.summary import DEFLATE
from .scenarios.api import mixed_budget, run_mixed, run_runs, run_stages, runs_budget, stages_budget
from .scenarios.common import MemorySampler, RunContext, RunFailed, SkipRun, choose_protocol
from .scenarios.fanout import fanout_budget, run_fanout
from .scenarios.rest_ops import rest_ops_budget, run_rest_ops
from .scenarios.rooms import rooms_budget, run_rooms
from .scenarios.rooms_saturate import rooms_saturate_budget, run_rooms_saturate
from .scenarios.saturate import run_saturate, saturate_budget
from .scenarios.sessions import run_sessions, sessions_budget
from .targets.npm import NpmError
from .targets.process import StartError
from .targets.remote import REMOTE, RemoteTarget
from .targets.servers import RunningServer, Target, make_target

__all__ = [
    "Comparison",
    "compress_variants",
    "machine_info",
    "rotation",
    "run_comparison",
    "source_info",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

ScenarioFn = Callable[[RunContext, Any, RunResult], Awaitable[None]]
BudgetFn = Callable[[Any, float, float], float]

_SCENARIOS: dict[str, tuple[ScenarioFn, BudgetFn]] = {
    "fanout": (run_fanout, fanout_budget),
    "rooms": (run_rooms, rooms_budget),
    "saturate": (run_saturate, saturate_budget),
    "rooms-saturate": (run_rooms_saturate, rooms_saturate_budget),
    "sessions": (run_sessions, sessions_budget),
    "rest-ops": (run_rest_ops, rest_ops_budget),
    "stages": (run_stages, stages_budget),
    "stages-rejoin": (run_stages, stages_budget),
    "runs": (run_runs, runs_budget),
    "mixed": (run_mixed, mixed_budget),
}

_NEEDS_API = frozenset({"stages", "stages-rejoin", "runs", "mixed"})

# Errors that end one run (reported as its failure) but never the comparison.
_RUN_ERRORS = (RunFailed, PoolError, StartError, NpmError, aiohttp.ClientError, OSError, ValueError, KeyError)


@dataclass
class Comparison:
    """Everything one invocation measured, ready for the report."""

    meta: dict[str, Any]
    runs: list[RunResult]

    def to_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls(meta=dict(data.get("meta", {})), runs=[RunResult.from_dict(r) for r in data["runs"]])


def rotation(items: Sequence[T], round_index: int) -> list[T]:
    """``items`` rotated left by ``round_index`` (pure): each round starts with the next one."""
    if not items:
        return []
    shift = round_index % len(items)
    return [*items[shift:], *items[:shift]]


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def _changed(root: Path, *paths: str) -> int:
    status = _version(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", *paths])
    return len([line for line in status.splitlines() if line.strip()])


def source_info() -> dict[str, Any]:
    """The code under test: its commit, and what differs from it (read-only git).

    ``changed_files``: uncommitted files of the server (actors, gateway, storage);
    ``dirty_files``: of the whole tree (the load generator included).
    """
    root = Path(__file__).resolve().parents[1]
    commit = _version(["git", "-C", str(root), "rev-parse", "HEAD"]) if shutil.which("git") else ""
    if not commit:
        return {"commit": "unknown", "changed_files": 0, "dirty_files": 0, "dirty": False}
    dirty = _changed(root, ".")
    return {
        "commit": commit,
        "changed_files": _changed(root, "actors", "gateway", "storage"),
        "dirty_files": dirty,
        "dirty": dirty > 0,
    }


def machine_info() -> dict[str, Any]:
    import psutil

    return {
        "python": sys.version.split()[0],
        "node": _version(["node", "--version"]) if shutil.which("node") else "unavailable",
        "platform": platform.platform(),
        "cpus": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


async def _prepare(targets: dict[str, Target], progress: ProgressSink) -> dict[str, str]:
    """One-time setup per target; returns the targets that cannot run, with the reason."""
    broken: dict[str, str] = {}
    for name, target in targets.items():
        try:
            await target.prepare()
        except (StartError, NpmError, OSError) as exc:
            broken[name] = f"setup failed: {exc}"
            progress.note(f"[red]{name}: {broken[name]}[/red]")
    return broken


async def run_one(
    scenario: str,
    options: ScenarioOptions,
    target: Target,
    round_index: int,
    run: RunOptions,
    run_dir: Path,
    progress: ProgressSink,
) -> RunResult:
    """One scenario against one fresh server; failures become the result, never raise."""
    fn, budget_fn = _SCENARIOS[scenario]
    result = RunResult(scenario=scenario, target=target.name, round=round_index)
    try:
        protocol = choose_protocol(target.info, run.protocol)
    except SkipRun as exc:
        result.status, result.error = RunStatus.SKIPPED, str(exc)
        return result
    result.protocol = protocol.value
    if scenario in _NEEDS_API and not target.info.api:  # known before starting anything
        result.status, result.error = (
            RunStatus.SKIPPED,
            f"{target.info.title} has no design-engine or workspace API",
        )
        return result
    budget = budget_fn(options, run.drain_timeout, run.connect_timeout) + target.start_timeout
    run_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once per run, before the server starts)
    server = None
    sampler: MemorySampler | None = None
    progress.phase("starting server")
    try:
        async with asyncio.timeout(budget):
            server = await target.start(run_dir)
            result.startup_s = server.startup_s
            result.extra["server_measured"] = _measured(server)
            sampler = MemorySampler(server)
            if server.local:
                sampler.start()
                await sampler.mark("baseline")
            ctx = RunContext(
                server=server,
                protocol=protocol,
                run=run,
                run_dir=run_dir,
                progress=progress,
                memory=sampler,
                rng=random.Random(),
            )
            await fn(ctx, options, result)
            if ctx.server_cpu_by_process:
                result.extra["server_cpu_by_process"] = ctx.server_cpu_by_process
            if ctx.load_nodes:
                result.extra["load_nodes"] = ctx.load_nodes
            if ctx.compression:
                result.extra["compression"] = ctx.compression
    except SkipRun as exc:
        result.status, result.error = RunStatus.SKIPPED, str(exc)
    except TimeoutError:
        result.status, result.error = RunStatus.FAILED, f"timed out after {budget:.0f}s"
    except _RUN_ERRORS as exc:
        result.status, result.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        if sampler is not None:
            await sampler.stop()
            result.memory = sampler.stats() if server is not None and server.local else None
        if server is not None:
            progress.phase("stopping server")
            try:
                await target.stop(server)
            except (OSError, TimeoutError) as exc:
                log.warning("%s: stop failed: %s", target.name, exc)
            result.extra["server_pids"] = server.process.known_pids
    return result


def _measured(server: RunningServer) -> str:
    """Which figures describe the server (memory and CPU need its processes on this machine)."""
    if not server.local:
        return "remote: server memory and CPU not measured"
    count = len(server.process.tree())
    return f"local: memory and CPU summed over its {count} process(es) from pid {server.process.pid}"


def _targets(run: RunOptions, env: dict[str, dict[str, str]]) -> dict[str, Target]:
    if run.url:
        return {REMOTE: RemoteTarget(run)}
    return {name: make_target(name, env.get(name)) for name in run.targets}


def compress_variants(scenario: str, run: RunOptions) -> list[tuple[str, RunOptions]]:
    """(label suffix, options) per way a scenario runs: both ways for realtime ones with
    ``compress_both`` (uncompressed first), else once as asked (pure)."""
    if run.compress_both and scenario in REALTIME:
        return [("", replace(run, compress=False)), (DEFLATE, replace(run, compress=True))]
    return [("", run)]


def expand(
    scenario: str, options: ScenarioOptions, bases: dict[str, ScenarioOptions] | None = None
) -> list[tuple[str, ScenarioOptions, int | None]]:
    """(scenario to run, its options, scale size or None): a scale run is its scenario at each size."""
    if not isinstance(options, ScaleOptions):
        return [(scenario, options, None)]
    base = (bases or {}).get(options.scenario) or SCENARIOS[options.scenario]()
    pairs = zip(scaled(options, base), scale_sizes(options), strict=True)
    return [(options.scenario, sized, size) for sized, size in pairs]


async def run_comparison(
    scenarios: Sequence[tuple[str, ScenarioOptions]],
    run: RunOptions,
    out_dir: Path,
    *,
    progress: ProgressSink | None = None,
    target_env: dict[str, dict[str, str]] | None = None,
    on_result: Callable[[Comparison], None] | None = None,
    scale_bases: dict[str, ScenarioOptions] | None = None,
) -> Comparison:
    """Every scenario × round × target, alternating; ``on_result`` sees the partial report.

    A ``scale`` entry runs its scenario at each size (``scale_bases``: the options it starts
    from, by scenario); those runs are labelled ``scale`` with the size in their params.
    """
    sink: ProgressSink = progress or NullProgress()
    targets = _targets(run, target_env or {})
    order = list(targets)
    meta: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "atelier_source": source_info(),
        "run": {**asdict(run), "targets": order, "token": "***" if run.token else ""},
        "scenarios": {name: asdict(options) for name, options in scenarios},
        "targets": {name: t.info.note for name, t in targets.items()},
    }
    comparison = Comparison(meta=meta, runs=[])
    broken = await _prepare(targets, sink)
    load: dict[str, Any] = {"before": await asyncio.to_thread(sample_machine), "during": {}}
    meta["machine_load"] = load
    for reason in busy_reasons(load):
        sink.note(f"[bold red]the machine is busy: {reason}[/bold red]")
    loadavgs: list[float] = []
    began = time.monotonic()
    jobs = [(label, *job) for label, options in scenarios for job in expand(label, options, scale_bases)]
    for label_scenario, scenario, options, size in jobs:
        variants = compress_variants(scenario if size is None else label_scenario, run)
        for round_index in range(rounds_for(scenario, run)):
            for suffix, variant in rotation(variants, round_index):
                for name in rotation(order, round_index):
                    result = await _one(
                        (label_scenario, scenario, options, size, suffix),
                        targets[name],
                        round_index,
                        variant,
                        out_dir,
                        sink,
                        broken.get(name),
                    )
                    comparison.runs.append(result)
                    loadavgs.append(os.getloadavg()[0])
                    load["during"] = during(_other_cpu(comparison.runs), loadavgs)
                    sink.end_run(_outcome(result))
                    if on_result is not None:
                        on_result(comparison)
    comparison.meta["elapsed_s"] = round(time.monotonic() - began, 1)
    return comparison


async def _one(
    job: tuple[str, str, ScenarioOptions, int | None, str],
    target: Target,
    round_index: int,
    run: RunOptions,
    out_dir: Path,
    sink: ProgressSink,
    broken: str | None,
) -> RunResult:
    """One job of the comparison against one target, labelled as the report groups it."""
    label_scenario, scenario, options, size, suffix = job
    what = label_scenario if size is None else f"{label_scenario} {scenario} at {size}"
    sink.begin_run(f"{what}{suffix} · {target.name} · round {round_index + 1}", _planned_sends(options))
    if broken is not None:
        result = RunResult(scenario, target.name, round_index, RunStatus.FAILED, broken)
    else:
        folder = scenario if size is None else f"scale-{scenario}-{size}"
        run_dir = out_dir / "runs" / f"{folder}{suffix}-{target.name}-r{round_index + 1}"
        result = await run_one(scenario, options, target, round_index, run, run_dir, sink)
    if size is not None:
        result.params.update(scale_scenario=scenario, scale_size=size)
    result.scenario = f"{label_scenario}{suffix}"
    return result


def _other_cpu(runs: Sequence[RunResult]) -> list[float]:
    return [step.other_cpu for r in runs for step in r.steps if step.machine_cpu > 0]


def _planned_sends(options: ScenarioOptions) -> int:
    return int(options.total_updates())


def _outcome(result: RunResult) -> str:
    if result.status != RunStatus.OK:
        colour = "yellow" if result.status == RunStatus.SKIPPED else "red"
        return f"[{colour}]{result.status}[/{colour}]: {result.error}"
    if not result.steps:
        return "ok"
    step = result.steps[-1]
    p99 = step.latency.percentile_ms(0.99)
    parts = [f"delivered {step.delivered}/{step.expected}"]
    parts += [
        f"{key} {step.counts[key]}"
        for key in ("flows", "events", "events_lost", "runs_ok")
        if key in step.counts
    ]
    if p99 is not None:
        parts.append(f"p99 {p99:.1f} ms")
    if step.errors:
        parts.append(f"[red]{step.errors} errors[/red]")
    if "max_sustained_rate" in result.extra:
        parts.append(f"max sustained {result.extra['max_sustained_rate']:.0f}/s")
    if "pss_per_session_mib" in result.extra:
        parts.append(
            f"{result.extra['pss_per_session_mib']:.2f} MiB PSS/session at {result.extra.get('sessions')}"
        )
    return ", ".join(parts)
