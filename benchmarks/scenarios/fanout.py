"""fanout: rooms of N editors, each appending at R edits/s; every edit must reach every other editor.

``run_room_load`` is the machinery (documents, editors, one measured step) that the ``rooms``
scenario shares: fanout stresses one large room, rooms many small ones.
"""

from __future__ import annotations

import math

from ..config import FanoutOptions
from ..loadgen.plan import StepPlan
from ..report.model import RunResult
from .common import RunContext, editor_plans, measure_step, running_pool, step_start, worker_plans

__all__ = ["fanout_budget", "run_fanout", "run_room_load"]


def fanout_budget(options: FanoutOptions, drain: float, connect: float) -> float:
    """Seconds after which the run is abandoned (a hard bound, never hit when healthy)."""
    return connect + options.duration + drain + 120.0


async def run_room_load(
    ctx: RunContext,
    result: RunResult,
    *,
    clients: int,
    room_size: int,
    rate: float,
    duration: float,
    budget: float,
) -> int:
    """``clients`` editors in rooms of ``room_size``, each at ``rate`` edits/s, one measured step.

    Records the sync times, the ``loaded`` memory mark and the step in ``result``; returns the
    number of rooms. ``budget`` is the run's hard bound (the workers outlive it by 30 s at most).
    """
    rooms = math.ceil(clients / room_size)
    ctx.progress.phase(f"creating {rooms} documents")
    documents = await ctx.server.create_documents(rooms)
    plans = editor_plans(ctx, documents, room_size, clients)
    async with running_pool(ctx, worker_plans(ctx, plans, lifetime=budget + 30.0)) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        step = StepPlan(
            step=0,
            start_ns=step_start(),
            duration=duration,
            client_rate=rate,
            max_updates=math.ceil(clients * rate * duration * 1.05) + clients,
        )
        result.steps.append(
            await measure_step(
                ctx, pool, step, senders=clients, offered_rate=rate * clients, drain=ctx.run.drain_timeout
            )
        )
    return rooms


async def run_fanout(ctx: RunContext, options: FanoutOptions, result: RunResult) -> None:
    room_size = options.room_size or options.clients
    rooms = await run_room_load(
        ctx,
        result,
        clients=options.clients,
        room_size=room_size,
        rate=options.rate,
        duration=options.duration,
        budget=fanout_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout),
    )
    result.params.update(
        clients=options.clients,
        rate=options.rate,
        duration=options.duration,
        room_size=room_size,
        rooms=rooms,
    )
