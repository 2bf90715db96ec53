"""sessions: activate K sessions (one editor each) and measure memory per live session.

Per session: the REST creation time where the server needs one (atelier creates a session's
actor there), then the editor's connect → synced time (the session's first use). Memory per
live session is the growth of the server tree's PSS (and RSS) from the idle server to K live
sessions, each holding one small edit, divided by K.
"""

from __future__ import annotations

import asyncio
import time

from ..config import SessionsOptions
from ..loadgen.plan import StepPlan
from ..report.model import MIB, RunResult
from ..stats import Histogram
from .common import RunContext, editor_plans, measure_step, running_pool, step_start, worker_plans

__all__ = ["run_sessions", "sessions_budget"]

SETTLE = 1.0  # seconds an idle or freshly loaded server gets before its memory is read


def sessions_budget(options: SessionsOptions, drain: float, connect: float) -> float:
    # Creating an atelier session starts an actor (70–480 ms here); allow 3 s each.
    return connect + options.sessions * 3.0 / options.concurrency + drain + 180.0


async def _create(ctx: RunContext, options: SessionsOptions, result: RunResult) -> list[str]:
    gate = asyncio.Semaphore(options.concurrency)
    created: list[str] = [""] * options.sessions
    timings = Histogram()

    async def one(index: int) -> None:
        async with gate:
            began = time.monotonic_ns()
            (document,) = await ctx.server.create_documents(1)
            timings.record_ns(time.monotonic_ns() - began)
            created[index] = document

    await asyncio.gather(*(one(i) for i in range(options.sessions)))
    if ctx.server.target.info.rest_ops:  # only servers with a creation API spend time here
        result.create = timings
    return created


async def run_sessions(ctx: RunContext, options: SessionsOptions, result: RunResult) -> None:
    await asyncio.sleep(SETTLE)
    baseline = await ctx.memory.mark("baseline")
    ctx.progress.phase(f"creating {options.sessions} sessions")
    documents = await _create(ctx, options, result)
    clients = editor_plans(ctx, documents, 1, options.sessions)
    lifetime = sessions_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout) + 30.0
    plans = worker_plans(ctx, clients, lifetime=lifetime, connect_concurrency=options.concurrency)
    async with running_pool(ctx, plans) as (pool, ready):
        result.sync = ready.sync
        step = StepPlan(
            step=0,
            start_ns=step_start(),
            duration=1.0,
            client_rate=max(1.0, options.sessions / 10.0),
            edits_per_client=1,
            max_updates=options.sessions,
        )
        result.steps.append(
            await measure_step(
                ctx, pool, step, senders=options.sessions, offered_rate=0.0, drain=ctx.run.drain_timeout
            )
        )
        await asyncio.sleep(SETTLE)
        loaded = await ctx.memory.mark("loaded")
    k = options.sessions
    result.extra.update(
        sessions=k,
        pss_per_session_mib=(loaded.pss - baseline.pss) / k / MIB,
        rss_per_session_mib=(loaded.rss - baseline.rss) / k / MIB,
        processes_baseline=baseline.processes,
        processes_loaded=loaded.processes,
    )
    activation = Histogram()
    for sync_ns in ready.sync_ns.values():
        activation.record_ns(sync_ns)
    result.extra["activation_ms"] = _activation_ms(result.create, activation)
    result.params.update(sessions=k, concurrency=options.concurrency)


def _activation_ms(create: Histogram, sync: Histogram) -> dict[str, float | None]:
    """Creation (where the server has one) plus first sync, percentile by percentile."""

    def add(q: float) -> float | None:
        s = sync.percentile_ms(q)
        if s is None:
            return None
        c = create.percentile_ms(q) if create.count else 0.0
        return s + (c or 0.0)

    return {"p50": add(0.5), "p95": add(0.95), "p99": add(0.99)}
