"""What every scenario shares: the run context, editor plans, memory sampling, one measured step."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunOptions
from ..loadgen.plan import (
    AGENT_BASE,
    AgentPlan,
    ApiUserPlan,
    ClientPlan,
    StepPlan,
    WorkerPlan,
    split_round_robin,
)
from ..loadgen.pool import ReadyInfo, StepOutcome, WorkerPool
from ..machine import machine_busy_seconds
from ..progress import ProgressSink
from ..report.model import MemoryStats, StepResult
from ..targets.process import MemorySample, by_label
from ..targets.servers import RunningServer, TargetInfo
from ..wire import WireProtocol

__all__ = [
    "SETTLE",
    "MemorySampler",
    "RunContext",
    "RunFailed",
    "SkipRun",
    "choose_protocol",
    "compression_note",
    "editor_plans",
    "measure_step",
    "process_cores",
    "running_pool",
    "step_start",
    "worker_plans",
]

log = logging.getLogger(__name__)

SAMPLE_INTERVAL = 0.5
SETTLE = 1.0  # seconds an idle or freshly loaded server gets before its memory is read
MAX_SAMPLES = 20_000


class RunFailed(RuntimeError):
    """The scenario cannot produce a meaningful result against this target."""


class SkipRun(RuntimeError):
    """The scenario does not apply to this target (reported as skipped, not failed)."""


def choose_protocol(info: TargetInfo, requested: str) -> WireProtocol:
    if requested == "auto":
        return info.protocols[0]
    protocol = WireProtocol(requested)
    if protocol not in info.protocols:
        raise SkipRun(f"{info.name} does not speak {protocol.value}")
    return protocol


class MemorySampler:
    """Samples the server tree's RSS/PSS in the background (in a thread: smaps reads block)."""

    def __init__(self, server: RunningServer) -> None:
        self._server = server
        self.samples: list[MemorySample] = []
        self.marks: dict[str, MemorySample] = {}
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_INTERVAL)

    async def sample(self) -> MemorySample:
        sample: MemorySample = await asyncio.to_thread(self._server.process.sample_memory)
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)
        return sample

    async def mark(self, name: str) -> MemorySample:
        sample = await self.sample()
        self.marks[name] = sample
        return sample

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def stats(self) -> MemoryStats:
        stats = MemoryStats()
        baseline = self.marks.get("baseline")
        loaded = self.marks.get("loaded")
        if baseline is not None:
            stats.baseline_rss, stats.baseline_pss = baseline.rss, baseline.pss
        if loaded is not None:
            stats.loaded_rss, stats.loaded_pss = loaded.rss, loaded.pss
        if self.samples:
            peak = max(self.samples, key=lambda s: s.pss)
            stats.peak_pss = peak.pss
            stats.peak_rss = max(s.rss for s in self.samples)
            stats.processes = peak.processes
        return stats


@dataclass
class RunContext:
    server: RunningServer
    protocol: WireProtocol
    run: RunOptions
    run_dir: Path
    progress: ProgressSink
    memory: MemorySampler
    rng: random.Random = field(default_factory=random.Random)
    # cores per server process label during the last measured step
    server_cpu_by_process: dict[str, float] = field(default_factory=dict)
    # where the load workers ran (--ray-address: one entry per actor, with its node)
    load_nodes: list[dict[str, object]] = field(default_factory=list)
    # permessage-deflate: offered by the clients, and on how many sockets the server agreed
    compression: dict[str, object] = field(default_factory=dict)


def editor_plans(
    ctx: RunContext,
    documents: list[str],
    room_size: int,
    clients: int,
    first_cid: int = 0,
    first_room: int = 0,
) -> list[ClientPlan]:
    """Editors ``first_cid..`` assigned to documents in order, ``room_size`` per document.

    Rooms are numbered from ``first_room``, so editors added later never join earlier rooms.
    """
    ids = ctx.rng.sample(range(1, 2**31), clients)  # unique Yjs client ids
    plans: list[ClientPlan] = []
    for index in range(clients):
        document = documents[index // room_size]
        plans.append(
            ClientPlan(
                cid=first_cid + index,
                room=first_room + index // room_size,
                url=ctx.server.ws_url(ctx.protocol, document),
                document=document,
                protocol=ctx.protocol,
                yjs_client_id=ids[index],
                token=ctx.server.token_for(0),
            )
        )
    return plans


def worker_plans(
    ctx: RunContext,
    clients: list[ClientPlan],
    agents: list[AgentPlan] | None = None,
    *,
    api_users: list[ApiUserPlan] | None = None,
    lifetime: float,
    connect_concurrency: int = 16,
    workers: int | None = None,
) -> list[WorkerPlan]:
    """Editors (and agents) dealt round-robin over the workers, so rooms span workers.

    ``workers`` defaults to --workers, at most one per editor.
    """
    count = max(1, workers if workers is not None else min(ctx.run.workers, len(clients) or 1))
    client_parts = split_round_robin(clients, count)
    agent_parts = split_round_robin(agents or [], count)
    user_parts = split_round_robin(api_users or [], count)
    return [
        WorkerPlan(
            worker=index,
            clients=client_parts[index],
            agents=agent_parts[index],
            api_users=user_parts[index],
            connect_timeout=ctx.run.connect_timeout,
            connect_concurrency=connect_concurrency,
            lifetime=lifetime,
            compress=ctx.run.compress,
        )
        for index in range(count)
    ]


def _make_pool(ctx: RunContext, plans: list[WorkerPlan]) -> WorkerPool:
    if not ctx.run.ray_address:
        return WorkerPool(plans, ctx.run_dir / "workers")
    from ..loadgen.ray_pool import RayWorkerPool  # Ray only when asked for: its import is slow

    return RayWorkerPool(
        plans,
        ctx.run_dir / "workers",
        address=ctx.run.ray_address,
        cpus_per_worker=ctx.run.ray_cpus_per_worker,
    )


@asynccontextmanager
async def running_pool(
    ctx: RunContext, plans: list[WorkerPlan]
) -> AsyncIterator[tuple[WorkerPool, ReadyInfo]]:
    """Workers started with every editor synced; always stopped (killed if need be) on exit."""
    pool = _make_pool(ctx, plans)
    try:
        ctx.progress.phase("connecting")
        info = await pool.start(ctx.run.connect_timeout + 30.0)
        ctx.load_nodes = list(pool.nodes)
        ctx.compression = compression_note(ctx.run.compress, info.connected, info.compressed)
        if info.failed:
            shown = "; ".join(info.failures[:3])
            raise RunFailed(
                f"{info.failed} of {info.failed + info.connected} editors failed to connect: {shown}"
            )
        yield pool, info
    except asyncio.CancelledError:
        pool.kill()
        raise
    finally:
        await pool.stop()


def compression_note(offered: bool, connected: int, compressed: int) -> dict[str, object]:
    """What the handshakes agreed on (pure): ``negotiated`` is yes, no, partly or n/a (not offered)."""
    if not offered:
        negotiated = "n/a"
    elif connected and compressed >= connected:
        negotiated = "yes"
    else:
        negotiated = "partly" if compressed else "no"
    return {"offered": offered, "sockets": connected, "compressed": compressed, "negotiated": negotiated}


def step_start(lead: float = 0.5) -> int:
    """A start time every worker can still meet."""
    return time.monotonic_ns() + int(lead * 1e9)


async def measure_step(
    ctx: RunContext,
    pool: WorkerPool,
    step: StepPlan,
    *,
    senders: int,
    offered_rate: float,
    drain: float,
) -> StepResult:
    """Run one step on the pool and turn the merged outcome into a StepResult."""
    ctx.progress.phase(f"step {step.step}: {offered_rate:g}/s offered")
    process = ctx.server.process
    by_pid0 = await asyncio.to_thread(process.cpu_by_pid)
    machine0 = machine_busy_seconds()
    began = time.monotonic()

    def on_progress(totals: dict[str, int]) -> None:
        done = totals.get("sent", 0) + totals.get("api", 0)
        ctx.progress.sends(done, totals.get("received", 0), totals.get("errors", 0))

    outcome = await pool.run_step(step, drain=drain, on_progress=on_progress)
    elapsed = time.monotonic() - began
    ended_ns = time.monotonic_ns()
    machine1 = machine_busy_seconds()
    by_pid1 = await asyncio.to_thread(process.cpu_by_pid)
    cores = process_cores(by_pid0, by_pid1, elapsed)
    ctx.server_cpu_by_process = {
        label: round(value, 3)
        for label, value in sorted(
            by_label({p["pid"]: (p["label"], p["cores"]) for p in cores}).items(), key=lambda item: -item[1]
        )
    }
    cpu0 = sum(seconds for _, seconds in by_pid0.values())
    cpu1 = sum(seconds for _, seconds in by_pid1.values())
    measured = to_step_result(
        step,
        outcome,
        senders=senders,
        offered_rate=offered_rate,
        client_cores=outcome.client_cpu_s / elapsed if elapsed > 0 else 0.0,
        server_cores=(cpu1 - cpu0) / elapsed if elapsed > 0 else 0.0,
        machine_cores=(machine1 - machine0) / elapsed if elapsed > 0 else 0.0,
        # Flows done back to back end when they end, not at a planned duration.
        wall_ns=ended_ns - step.start_ns if step.api_count else 0,
    )
    measured.process_cpu = cores
    return measured


def process_cores(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], elapsed: float
) -> list[dict[str, Any]]:
    """Cores each server process used between two CPU readings, busiest first (pure).

    A process that started in between counts from zero; one that ended is left out.
    """
    if elapsed <= 0:
        return []
    rows = [
        {
            "pid": pid,
            "label": label,
            "cores": round((seconds - before.get(pid, (label, 0.0))[1]) / elapsed, 4),
        }
        for pid, (label, seconds) in after.items()
    ]
    return sorted(rows, key=lambda row: (-row["cores"], row["pid"]))


def to_step_result(
    step: StepPlan,
    outcome: StepOutcome,
    *,
    senders: int,
    offered_rate: float,
    client_cores: float,
    server_cores: float,
    machine_cores: float = 0.0,
    wall_ns: int = 0,
) -> StepResult:
    first = outcome.first_send_ns or step.start_ns
    wall = wall_ns / 1e9 if wall_ns > 0 else step.duration
    if outcome.last_delivery_ns:
        wall = max(wall, (outcome.last_delivery_ns - first) / 1e9)
    return StepResult(
        step=step.step,
        offered_rate=offered_rate,
        duration=step.duration,
        senders=senders,
        sent=sum(outcome.sent.values()),
        expected=sum(outcome.expected.values()),
        delivered=sum(min(n, outcome.expected.get(cid, 0)) for cid, n in outcome.received.items()),
        duplicates=outcome.duplicates,
        stale=outcome.stale,
        acked=outcome.acked,
        rejected=outcome.rejected,
        pending_acks=outcome.pending_acks,
        errors=outcome.errors,
        error_samples=outcome.error_samples,
        latency=outcome.latency,
        agent_latency=outcome.agent_latency,
        ack_latency=outcome.ack_latency,
        http_latency=outcome.http_latency,
        send_lag=outcome.send_lag,
        wall=wall,
        client_cpu=client_cores,
        server_cpu=server_cores,
        machine_cpu=machine_cores,
        open_clients=outcome.open_clients,
        agent_ops=sum(n for cid, n in outcome.sent.items() if cid >= AGENT_BASE),
        counts=dict(outcome.counts),
        hists=dict(outcome.hists),
    )
