"""sessions: grow the number of live sessions (one editor each) through a list of sizes.

Sessions are activated a batch at a time: created over REST where the server needs it
(atelier places the session on a host there), then their editors connect and sync, so no
session waits long between creation and first use (atelier unloads idle sessions). A
session's *activation* is its creation time plus its editor's connect → synced time.

At each size every live session edits once, the server settles, and its memory is read:
memory per live session is the growth of the server tree's PSS (and RSS) from the idle
server to K live sessions, divided by K. Targets that run one process per session
(atelier-isolated) stop at ``isolated_max_sessions``: 1,000 such processes do not fit here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..config import SessionsOptions, capped_sizes, session_sizes
from ..loadgen.plan import StepPlan
from ..loadgen.pool import WorkerPool
from ..report.model import MIB, RunResult, StepResult
from ..stats import Histogram
from .common import (
    SETTLE,
    RunContext,
    RunFailed,
    editor_plans,
    measure_step,
    running_pool,
    step_start,
    worker_plans,
)

__all__ = ["BATCH", "run_sessions", "sessions_budget", "sizes_for"]

# Sessions created, then connected, at a time: bounds how long a new session stays unused.
BATCH = 25
# Edits per second (all live sessions together) of the one edit each size ends with.
EDIT_RATE = 500.0
# Seconds allowed per session activation (isolated: a process start, 1–9 s here with 4 at once).
_ACTIVATION_ALLOWANCE = 3.0


def sizes_for(options: SessionsOptions, process_per_session: bool) -> list[int]:
    """The sizes a target grows through: capped where each session is a process (pure)."""
    sizes = session_sizes(options)
    return capped_sizes(sizes, options.isolated_max_sessions) if process_per_session else sizes


def sessions_budget(options: SessionsOptions, drain: float, connect: float) -> float:
    sizes = session_sizes(options)
    activate = sizes[-1] * _ACTIVATION_ALLOWANCE / options.concurrency
    edits = sum(sizes) / EDIT_RATE + len(sizes) * (drain + SETTLE + 40.0)
    return connect + activate + edits + 180.0


async def _create(ctx: RunContext, count: int, concurrency: int) -> tuple[list[str], list[int]]:
    """``count`` new documents and the creation time of each (ns; 0 without a creation API)."""
    gate = asyncio.Semaphore(concurrency)
    created: list[str] = [""] * count
    took: list[int] = [0] * count
    timed = ctx.server.target.info.rest_ops  # only servers with a creation API spend time here

    async def one(index: int) -> None:
        async with gate:
            began = time.monotonic_ns()
            (document,) = await ctx.server.create_documents(1)
            if timed:
                took[index] = time.monotonic_ns() - began
            created[index] = document

    await asyncio.gather(*(one(i) for i in range(count)))
    return created, took


async def _grow(
    ctx: RunContext, pool: WorkerPool, live: int, size: int, concurrency: int
) -> dict[str, Histogram]:
    """Activate sessions ``live+1..size``; returns this stage's create/sync/activation times."""
    times = {"create": Histogram(), "sync": Histogram(), "activation": Histogram()}
    while live < size:
        count = min(BATCH, size - live)
        ctx.progress.phase(f"activating sessions {live + 1}..{live + count} of {size}")
        documents, created = await _create(ctx, count, concurrency)
        clients = editor_plans(ctx, documents, 1, count, first_cid=live, first_room=live)
        ready = await pool.add(clients, ctx.run.connect_timeout + 30.0)
        if ready.failed:
            shown = "; ".join(ready.failures[:3])
            raise RunFailed(
                f"{ready.failed} of {count} editors failed to connect with {live} sessions live: {shown}"
            )
        for client, create_ns in zip(clients, created, strict=True):
            sync_ns = ready.sync_ns[client.cid]
            if create_ns:
                times["create"].record_ns(create_ns)
            times["sync"].record_ns(sync_ns)
            times["activation"].record_ns(create_ns + sync_ns)
        live += count
    return times


async def _edit_all(ctx: RunContext, pool: WorkerPool, index: int, size: int) -> StepResult:
    """One edit from every live session, spread at EDIT_RATE in total."""
    step = StepPlan(
        step=index,
        start_ns=step_start(),
        duration=1.0,
        client_rate=EDIT_RATE / size,
        edits_per_client=1,
        max_updates=size + ctx.run.workers,
    )
    ctx.progress.phase(f"one edit in each of {size} sessions")
    return await measure_step(ctx, pool, step, senders=size, offered_rate=0.0, drain=ctx.run.drain_timeout)


async def run_sessions(ctx: RunContext, options: SessionsOptions, result: RunResult) -> None:
    requested = session_sizes(options)
    sizes = sizes_for(options, ctx.server.target.info.process_per_session)
    await asyncio.sleep(SETTLE)
    baseline = await ctx.memory.mark("baseline")
    lifetime = sessions_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout) + 30.0
    # No editors yet: each size adds its own to the running workers.
    workers = min(ctx.run.workers, sizes[0])
    plans = worker_plans(ctx, [], lifetime=lifetime, connect_concurrency=options.concurrency, workers=workers)
    stages: list[dict[str, Any]] = []
    creates: list[Histogram] = []
    live = 0
    async with running_pool(ctx, plans) as (pool, _):
        for index, size in enumerate(sizes):
            times = await _grow(ctx, pool, live, size, options.concurrency)
            live = size
            creates.append(times["create"])
            result.sync.merge(times["sync"])
            step = await _edit_all(ctx, pool, index, size)
            result.steps.append(step)
            await asyncio.sleep(SETTLE)
            loaded = await ctx.memory.mark("loaded")
            stages.append(_stage(size, times, step, loaded.pss - baseline.pss, loaded.rss - baseline.rss))
            stages[-1]["processes"] = loaded.processes
    result.create = Histogram.merged(creates)
    last = stages[-1]
    result.extra.update(
        sessions=last["sessions"],
        pss_per_session_mib=last["pss_per_session_mib"],
        rss_per_session_mib=last["rss_per_session_mib"],
        activation_ms=last["activation_ms"],
        processes_baseline=baseline.processes,
        processes_loaded=last["processes"],
        sizes=stages,
    )
    if sizes[-1] < requested[-1]:
        result.extra["capped_at"] = sizes[-1]
        result.extra["requested_sessions"] = requested[-1]
    result.params.update(
        sessions=",".join(str(size) for size in sizes),
        concurrency=options.concurrency,
        isolated_max_sessions=options.isolated_max_sessions,
    )


def _stage(size: int, times: dict[str, Histogram], step: StepResult, pss: int, rss: int) -> dict[str, Any]:
    """What one size measured, as JSON-ready data (the histograms merge across rounds)."""
    activation = times["activation"]
    return {
        "sessions": size,
        "activated": activation.count,
        "pss_per_session_mib": pss / size / MIB,
        "rss_per_session_mib": rss / size / MIB,
        "activation_ms": {
            "p50": activation.percentile_ms(0.50),
            "p95": activation.percentile_ms(0.95),
            "p99": activation.percentile_ms(0.99),
        },
        "activation": activation.to_dict(),
        "create": times["create"].to_dict(),
        "sync": times["sync"].to_dict(),
        "errors": step.errors + step.rejected + step.pending_acks,
    }
