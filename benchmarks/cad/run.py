"""Runs the cad benchmark: the BOM in process, then on a local Ray per worker count.

Each Ray worker count gets its own loopback-only local Ray of exactly that many CPUs (so Ray
itself never runs more jobs at once), started here and shut down, its temp dir removed, before
the next. When Ray is already initialised in this process (the test suite's session cluster),
that cluster is used as it is and left running; the result records it (``cluster: reused``,
its CPU count), since its size, not ``workers``, then bounds the concurrency.

Every wait is bounded: the warm-up by `WARM_UP_BUDGET_S`, each round by `round_budget_s`;
jobs still pending then are cancelled (``force=True``: a running OpenCascade call cannot be
interrupted from inside) and counted as failed. An in-process job cannot be interrupted at
all; the round stops starting new ones once its budget is spent.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ..progress import JobSink, NullJobProgress
from .bom import bom, shape_of
from .options import WARM_UP_BUDGET_S, CadOptions, round_budget_s, validate_cad
from .results import CadResults, JobSample, ModeResult, RoundResult

__all__ = ["RAY_ENV", "CadRunError", "local_ray", "run_cad"]

log = logging.getLogger(__name__)

# Set before Ray is imported and started (as actors.runtime does for the gateway): no usage
# reporting, no token auth files, no cluster mode on macOS/Windows.
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}
NAMESPACE = "atelier-cad-bench"
# Ray's socket paths must stay under ~107 bytes: a short folder directly in /tmp.
_RAY_TEMP_PARENT = "/tmp"


class CadRunError(RuntimeError):
    """A mode could not run: Ray would not start, or the warm-up did not finish in time."""


@dataclass(frozen=True, slots=True)
class Cluster:
    reused: bool
    cpus: int
    start_s: float | None  # None when reused


def _ray_errors() -> tuple[type[BaseException], ...]:
    from ray.exceptions import RayError

    # ray.init raises ConnectionError/RuntimeError/ValueError when a node cannot come up.
    return (RayError, CadRunError, OSError, RuntimeError, ValueError, TimeoutError)


@contextmanager
def local_ray(num_cpus: int) -> Iterator[Cluster]:
    """A loopback-only local Ray of ``num_cpus`` CPUs, or the one already running here."""
    os.environ.update(RAY_ENV)
    import ray

    if ray.is_initialized():
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        yield Cluster(reused=True, cpus=int(resources.get("CPU", 0)), start_s=None)
        return
    temp = Path(tempfile.mkdtemp(prefix="atelier-cad-ray-", dir=_RAY_TEMP_PARENT))
    start = time.perf_counter()
    try:
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            _temp_dir=str(temp),
            namespace=NAMESPACE,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        yield Cluster(reused=False, cpus=num_cpus, start_s=time.perf_counter() - start)
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


class CpuMeter:
    """Cores busy since it was made: machine-wide (other users included), and in this process
    and its descendants (the in-process jobs, or the Ray node this process started)."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._own = self._own_seconds()
        self._busy = self._busy_seconds()
        self._start = time.perf_counter()

    @staticmethod
    def _busy_seconds() -> float:
        times = psutil.cpu_times()
        busy: float = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        return busy

    def _own_seconds(self) -> dict[int, float]:
        seconds: dict[int, float] = {}
        for process in (self._me, *self._me.children(recursive=True)):
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # gone between listing and reading: its time is lost, not guessed
            seconds[process.pid] = times.user + times.system
        return seconds

    def cores(self) -> tuple[float, float]:
        """(machine, own) cores busy on average since the meter was made."""
        elapsed = time.perf_counter() - self._start
        if elapsed <= 0:
            return 0.0, 0.0
        machine = (self._busy_seconds() - self._busy) / elapsed
        own = sum(v - self._own.get(pid, 0.0) for pid, v in self._own_seconds().items()) / elapsed
        return machine, own


def _sample(node: Mapping[str, Any], latency_s: float, result: Mapping[str, Any]) -> JobSample:
    timings = result.get("timings") or {}
    service = sum(float(timings.get(k, 0.0)) for k in ("loadS", "buildS", "exportS")) if timings else None
    ok = result.get("status") == "done"
    return JobSample(
        temp_id=str(node["tempId"]),
        shape=shape_of(node),
        ok=ok,
        latency_s=latency_s,
        service_s=service,
        load_s=float(timings["loadS"]) if "loadS" in timings else None,
        reason=None if ok else str(result.get("reason") or "failed"),
    )


def _unfinished(node: Mapping[str, Any], latency_s: float, reason: str) -> JobSample:
    return JobSample(str(node["tempId"]), shape_of(node), False, latency_s, reason=reason)


# -- in process -------------------------------------------------------------------------


def _local_round(
    nodes: Sequence[Mapping[str, Any]],
    folder: Path,
    limits: Mapping[str, Any],
    index: int,
    budget_s: float,
    progress: JobSink,
) -> RoundResult:
    from actors.engine.cad.jobs import generate_part_sync

    meter = CpuMeter()
    jobs: list[JobSample] = []
    start = time.perf_counter()
    last = start
    for node in nodes:
        if time.perf_counter() - start > budget_s:
            jobs.append(
                _unfinished(node, time.perf_counter() - start, f"not run: round budget {budget_s:.0f}s spent")
            )
            progress.job(False)
            continue
        try:
            result = generate_part_sync(node, folder, limits)
        except (OSError, ValueError, RuntimeError) as exc:  # a kernel error the job did not translate
            result = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
        last = time.perf_counter()
        # Every part was "submitted" at the round's start, as on Ray: latency includes the queue.
        jobs.append(_sample(node, last - start, result))
        progress.job(jobs[-1].ok)
    machine, own = meter.cores()
    return RoundResult(index, wall_s=last - start, jobs=jobs, machine_cpu=machine, own_cpu=own)


def run_in_process(
    nodes: Sequence[Mapping[str, Any]],
    workdir: Path,
    limits: Mapping[str, Any],
    options: CadOptions,
    progress: JobSink,
) -> ModeResult:
    """``generate_part_sync`` over the BOM, one part after another, in this process."""
    from actors.engine.cad.jobs import warm_up_sync

    mode = ModeResult(workers=None, parts=len(nodes))
    progress.phase("loading the CAD kernel")
    mode.cold_start_s = warm_up_sync()  # 0 when this process already has it
    mode.warm_up_s = [mode.cold_start_s]
    budget = round_budget_s(len(nodes), 1, options.job_timeout_s)
    for index in range(options.rounds):
        progress.phase(f"round {index + 1}/{options.rounds}")
        folder = workdir / f"{mode.key}-r{index + 1}"
        folder.mkdir(parents=True)
        try:
            mode.rounds.append(_local_round(nodes, folder, limits, index, budget, progress))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return mode


# -- on Ray -----------------------------------------------------------------------------


def _get(ref: Any) -> Mapping[str, Any]:
    import ray
    from ray.exceptions import RayError

    try:
        result: Mapping[str, Any] = ray.get(ref)
    except RayError as exc:  # a worker crash or a cancelled task: this job's failure only
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"status": "failed", "reason": f"{type(exc).__name__}: {first}"}
    return result


def _ray_round(
    nodes: Sequence[Mapping[str, Any]],
    folder: Path,
    limits: Mapping[str, Any],
    index: int,
    budget_s: float,
    progress: JobSink,
) -> RoundResult:
    import ray

    from actors.engine.cad.jobs import generate_part

    meter = CpuMeter()
    start = time.perf_counter()
    submitted: dict[Any, tuple[Mapping[str, Any], float]] = {}
    for node in nodes:
        ref = generate_part.remote(dict(node), str(folder), dict(limits))
        submitted[ref] = (node, time.perf_counter())
    pending = list(submitted)
    jobs: list[JobSample] = []
    last = start
    deadline = start + budget_s
    while pending:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        ready, pending = ray.wait(pending, num_returns=1, timeout=remaining)
        now = time.perf_counter()
        for ref in ready:
            node, sent = submitted[ref]
            jobs.append(_sample(node, now - sent, _get(ref)))
            progress.job(jobs[-1].ok)
            last = now
    if pending:
        last = time.perf_counter()
        log.warning("cad bench: %d job(s) still running after %.0fs; cancelling them", len(pending), budget_s)
    for ref in pending:
        ray.cancel(ref, force=True)
        node, sent = submitted[ref]
        jobs.append(_unfinished(node, last - sent, f"timed out: round budget {budget_s:.0f}s spent"))
        progress.job(False)
    machine, own = meter.cores()
    return RoundResult(index, wall_s=last - start, jobs=jobs, machine_cpu=machine, own_cpu=own)


def _warm_up(workers: int) -> tuple[float, list[float]]:
    """One ``warm_up`` per worker, all at once: (wall seconds, each one's kernel load seconds)."""
    import ray

    from actors.engine.cad.jobs import warm_up

    start = time.perf_counter()
    refs = [warm_up.remote() for _ in range(workers)]
    _ready, pending = ray.wait(refs, num_returns=len(refs), timeout=WARM_UP_BUDGET_S)
    if pending:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise CadRunError(f"{len(pending)} of {workers} warm-up(s) not done after {WARM_UP_BUDGET_S:.0f}s")
    loads: list[float] = ray.get(refs)
    return time.perf_counter() - start, [float(v) for v in loads]


def run_on_ray(
    nodes: Sequence[Mapping[str, Any]],
    workers: int,
    workdir: Path,
    limits: Mapping[str, Any],
    options: CadOptions,
    progress: JobSink,
) -> ModeResult:
    """The BOM on a local Ray of ``workers`` CPUs: start, warm up, every round, shut down."""
    mode = ModeResult(workers=workers, parts=len(nodes))
    budget = round_budget_s(len(nodes), workers, options.job_timeout_s)
    progress.phase("starting Ray")
    try:
        with local_ray(workers) as cluster:
            mode.cluster = "reused" if cluster.reused else "own"
            mode.cluster_cpus = cluster.cpus
            mode.ray_start_s = cluster.start_s
            progress.phase(f"warming {workers} worker(s)")
            mode.cold_start_s, mode.warm_up_s = _warm_up(workers)
            for index in range(options.rounds):
                progress.phase(f"round {index + 1}/{options.rounds}")
                folder = workdir / f"{mode.key}-r{index + 1}"
                folder.mkdir(parents=True)
                try:
                    mode.rounds.append(_ray_round(nodes, folder, limits, index, budget, progress))
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
            progress.phase("stopping Ray")
    except _ray_errors() as exc:
        mode.error = f"{type(exc).__name__}: {exc}"
        log.warning("cad bench ray-%d failed: %s", workers, mode.error)
    return mode


# -- the whole command ------------------------------------------------------------------


def _versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in ("ray", "build123d", "cadquery-ocp-novtk", "cadquery-ocp"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _meta(options: CadOptions, counts: Sequence[int]) -> dict[str, Any]:
    from ..runner import machine_info, source_info

    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "atelier_source": source_info(),
        "versions": _versions(),
        "options": asdict(options),
        "worker_counts": list(counts),
        "bom": [
            {"tempId": n["tempId"], "shape": shape_of(n), "material": n.get("material")}
            for n in bom(options.parts)
        ],
    }


def planned_jobs(options: CadOptions, counts: Sequence[int]) -> int:
    return options.parts * options.rounds * (1 + len(counts))


def run_cad(
    options: CadOptions,
    *,
    progress: JobSink | None = None,
    cpus: int | None = None,
    on_mode: Callable[[CadResults], None] | None = None,
) -> CadResults:
    """In process, then Ray at each worker count; ``on_mode`` sees the results after each mode."""
    from actors.engine.cad.params import CadLimits

    sink: JobSink = progress or NullJobProgress()
    counts = validate_cad(options, cpus or psutil.cpu_count(logical=True) or 1)
    nodes = bom(options.parts)
    limits = CadLimits(job_timeout_s=options.job_timeout_s).to_json()
    results = CadResults(meta=_meta(options, counts))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="atelier-cad-bench-") as root:
        workdir = Path(root)
        steps: list[tuple[str, int | None]] = [("in-process", None), *((f"ray × {w}", w) for w in counts)]
        for label, workers in steps:
            sink.begin_mode(label, options.parts * options.rounds)
            if workers is None:
                mode = run_in_process(nodes, workdir, limits, options, sink)
            else:
                mode = run_on_ray(nodes, workers, workdir, limits, options, sink)
            results.modes.append(mode)
            sink.end_mode(_outcome(mode))
            if on_mode is not None:
                on_mode(results)
    results.meta["elapsed_s"] = round(time.monotonic() - began, 1)
    return results


def _outcome(mode: ModeResult) -> str:
    if not mode.rounds:
        return f"[red]failed[/red]: {mode.error or 'no round ran'}"
    done = sum(r.done for r in mode.rounds)
    wanted = mode.parts * len(mode.rounds)
    rates = sorted(r.jobs_per_min for r in mode.rounds)
    text = f"{done}/{wanted} parts done, {rates[len(rates) // 2]:,.0f} jobs/min"
    if mode.cold_start_s is not None:
        text += f", cold start {mode.cold_start_s:.2f} s"
    if mode.error is not None:
        text += f", [red]{mode.error}[/red]"
    return text
