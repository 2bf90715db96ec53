"""``python -m benchmarks profile``: py-spy on a local ``atelier serve`` while a scenario loads it.

Starts ``atelier serve`` as the benchmarks do (local Ray, embedded SQLite, a fresh data dir,
a free loopback port; ready when ``/ready`` answers 200), runs one scenario against it through
the runner's ``run_one`` (the same load, measurements and result as a comparison's run), and
when the measured step begins attaches ``py-spy record`` to the gateway, the busiest session
host actor and the store owner actor (``pyspy``). When the run is over the server is stopped
by its PID (and what is left of its tree by theirs) and ``profile.md`` is written from the raw
stacks (``stacks``, ``report``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

from ..config import RunOptions, ScenarioOptions
from ..progress import NullProgress, ProgressSink, RichProgress
from ..report.model import RunResult, RunStatus
from ..runner import run_one, source_info
from ..targets.process import StartError
from ..targets.servers import RunningServer, Target, make_target
from .options import ProfileOptions
from .pyspy import ROLES, PySpyMissing, Recording, find_py_spy, pick_processes, py_spy_version, record_process
from .report import ProcessReport, RunInfo, profile_markdown, result_line
from .stacks import StackFormatError, profile_of

__all__ = ["ProfileRun", "run_profile", "run_profile_command"]

PROFILE_MD = "profile.md"
RESULT_JSON = "result.json"
REPO_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class ProfileRun:
    """What one profile produced: the scenario's result, each process's report, the header."""

    info: RunInfo
    result: RunResult
    processes: list[ProcessReport]

    @property
    def markdown(self) -> str:
        return profile_markdown(self.info, self.result, self.processes)


class _Started(Target):
    """The server this command started, handed to ``run_one`` as is and left running by it."""

    start_timeout = 0.0

    def __init__(self, server: RunningServer) -> None:
        super().__init__(server.target.info)
        self._server = server

    async def start(self, run_dir: Path, timeout: float | None = None) -> RunningServer:  # noqa: ASYNC109 (already started)
        return self._server

    async def stop(self, server: RunningServer) -> None:
        """Stopped by the command once the recordings are done."""


class _StepWatch:
    """The run's progress, passed on; ``step`` is set when the first measured step begins."""

    def __init__(self, inner: ProgressSink) -> None:
        self.inner = inner
        self.step = asyncio.Event()

    def begin_run(self, label: str, total_sends: int) -> None:
        self.inner.begin_run(label, total_sends)

    def phase(self, text: str) -> None:
        self.inner.phase(text)
        if text.startswith("step "):
            self.step.set()

    def sends(self, done: int, received: int, errors: int) -> None:
        self.inner.sends(done, received, errors)

    def end_run(self, outcome: str) -> None:
        self.inner.end_run(outcome)

    def note(self, text: str) -> None:
        self.inner.note(text)


async def _when_step_begins(watch: _StepWatch, run: asyncio.Task[RunResult]) -> bool:
    """True once the measured step begins; False when the run ended (failed) before it."""
    began = asyncio.ensure_future(watch.step.wait())
    try:
        await asyncio.wait({began, run}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        began.cancel()
    return watch.step.is_set()


async def _record(
    executable: str,
    server: RunningServer,
    before: Mapping[int, tuple[str, float]],
    profile: ProfileOptions,
    out: Path,
    say: Callable[[str], None],
) -> list[Recording]:
    after = await asyncio.to_thread(server.process.cpu_by_pid)
    picked = pick_processes(server.process.pid or 0, before, after)
    say("profiling " + ", ".join(f"{role} pid {pid}" for role, pid in picked.items() if pid is not None))
    for role, pid in picked.items():
        if pid is None:
            say(f"{role}: no such process in the server's tree")
    say(f"py-spy: recording for {profile.duration} s at {profile.sample_rate} samples/s")
    recordings = await asyncio.gather(
        *(
            record_process(executable, role, pid, out, duration=profile.duration, rate=profile.sample_rate)
            for role, pid in picked.items()
            if pid is not None
        )
    )
    say("py-spy: done" + "".join(f"; {r.role}: {len(r.errors)} error(s)" for r in recordings if r.errors))
    return list(recordings)


def _cores(result: RunResult) -> dict[int, float]:
    if not result.steps:
        return {}
    return {int(row["pid"]): float(row["cores"]) for row in result.steps[-1].process_cpu}


def _process_reports(recordings: list[Recording], result: RunResult, top: int) -> list[ProcessReport]:
    by_role = {r.role: r for r in recordings}
    cores = _cores(result)
    reports = []
    for role in ROLES:
        recording = by_role.get(role)
        if recording is None:
            reports.append(ProcessReport(role, None, None))
            continue
        errors = list(recording.errors)
        profile = None
        if recording.raw.exists():
            try:
                profile = profile_of(recording.raw.read_text(errors="replace"), REPO_ROOT, top)
            except StackFormatError as exc:
                errors.append(f"{recording.raw.name}: {exc}")
        reports.append(
            ProcessReport(
                role,
                recording.pid,
                profile,
                svg=recording.svg.name if recording.svg.exists() else "",
                raw=recording.raw.name if recording.raw.exists() else "",
                errors=tuple(errors),
                cores=cores.get(recording.pid),
            )
        )
    return reports


async def run_profile(
    scenario: str,
    load: ScenarioOptions,
    profile: ProfileOptions,
    out: Path,
    env: Mapping[str, str],
    progress: ProgressSink,
) -> ProfileRun:
    """Start the server, run ``scenario`` at ``load`` against it, record, stop it; raises
    PySpyMissing before starting anything, StartError when the server does not come up."""
    executable = find_py_spy()
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything starts)
    info = RunInfo(
        scenario=scenario,
        options=asdict(load),
        duration=profile.duration,
        sample_rate=profile.sample_rate,
        py_spy=await asyncio.to_thread(py_spy_version, executable),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        source=await asyncio.to_thread(source_info),
        cpus=psutil.cpu_count(logical=True) or 0,
        loadavg=os.getloadavg()[0],
    )
    run = RunOptions(targets=("atelier",), repeats=1)
    watch = _StepWatch(progress)
    watch.begin_run(f"profile {scenario} · atelier", int(load.total_updates()))
    watch.phase("starting atelier serve")
    target = make_target("atelier", env)
    run_dir = out / "run"
    server = await target.start(run_dir)
    watch.note(f"atelier serve ready in {server.startup_s:.1f} s (pid {server.process.pid})")
    recordings: list[Recording] = []
    runner = asyncio.ensure_future(run_one(scenario, load, _Started(server), 0, run, run_dir, watch))
    try:
        before = await asyncio.to_thread(server.process.cpu_by_pid)
        if await _when_step_begins(watch, runner):
            recordings = await _record(executable, server, before, profile, out, watch.note)
        result = await runner
    finally:
        if not runner.done():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        watch.phase("stopping atelier serve")
        await target.stop(server)
    watch.end_run(result_line(result).replace("**", ""))
    if result.status == RunStatus.OK and not recordings:
        result.status, result.error = RunStatus.FAILED, "the measured step never began: nothing recorded"
    return ProfileRun(info, result, _process_reports(recordings, result, profile.top))


def _write(profiled: ProfileRun, out: Path) -> Path:
    data: dict[str, Any] = {
        "info": asdict(profiled.info),
        "run": profiled.result.to_dict(),
        "processes": [
            {
                "role": p.role,
                "pid": p.pid,
                "samples": None if p.profile is None else p.profile.samples,
                "by_self": [] if p.profile is None else [_row(r) for r in p.profile.by_self],
                "by_total": [] if p.profile is None else [_row(r) for r in p.profile.by_total],
                "svg": p.svg,
                "raw": p.raw,
                "errors": list(p.errors),
                "cores": p.cores,
            }
            for p in profiled.processes
        ],
    }
    (out / RESULT_JSON).write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    path = out / PROFILE_MD
    path.write_text(profiled.markdown)
    return path


def _row(row: Any) -> dict[str, Any]:
    return {"frame": str(row.frame), "samples": row.samples, "percent": round(row.percent, 3)}


def run_profile_command(
    scenario: str,
    load: ScenarioOptions,
    profile: ProfileOptions,
    out: Path,
    env: Mapping[str, str],
    *,
    quiet: bool,
) -> int:
    """The command: 0 when the run succeeded and every process has CPU samples, 1 otherwise,
    2 without py-spy."""
    try:
        find_py_spy()
    except PySpyMissing as exc:
        print(f"python -m benchmarks profile: {exc}", file=sys.stderr)
        return 2

    async def main() -> ProfileRun:
        if quiet:
            return await run_profile(scenario, load, profile, out, env, NullProgress())
        with RichProgress(1) as progress:
            return await run_profile(scenario, load, profile, out, env, progress)

    try:
        profiled = asyncio.run(main())
    except StartError as exc:
        print(f"python -m benchmarks profile: {exc}", file=sys.stderr)
        return 1
    path = _write(profiled, out)
    print(path.read_text())
    print(f"results: {out}", file=sys.stderr)
    complete = all(p.profile is not None and p.profile.samples > 0 for p in profiled.processes)
    return 0 if profiled.result.status == RunStatus.OK and complete else 1
