"""fanout: rooms of N editors, each appending at R edits/s; every edit must reach every other editor."""

from __future__ import annotations

import math

from ..config import FanoutOptions
from ..loadgen.plan import StepPlan
from ..report.model import RunResult
from .common import RunContext, editor_plans, measure_step, running_pool, step_start, worker_plans

__all__ = ["run_fanout", "fanout_budget"]


def fanout_budget(options: FanoutOptions, drain: float, connect: float) -> float:
    """Seconds after which the run is abandoned (a hard bound, never hit when healthy)."""
    return connect + options.duration + drain + 120.0


async def run_fanout(ctx: RunContext, options: FanoutOptions, result: RunResult) -> None:
    room_size = options.room_size or options.clients
    rooms = math.ceil(options.clients / room_size)
    documents = await ctx.server.create_documents(rooms)
    clients = editor_plans(ctx, documents, room_size, options.clients)
    lifetime = fanout_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout) + 30.0
    async with running_pool(ctx, worker_plans(ctx, clients, lifetime=lifetime)) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        step = StepPlan(
            step=0,
            start_ns=step_start(),
            duration=options.duration,
            client_rate=options.rate,
            max_updates=math.ceil(options.total_updates() * 1.05) + options.clients,
        )
        result.steps.append(
            await measure_step(
                ctx,
                pool,
                step,
                senders=options.clients,
                offered_rate=options.rate * options.clients,
                drain=ctx.run.drain_timeout,
            )
        )
    result.params.update(
        clients=options.clients, rate=options.rate, duration=options.duration, room_size=room_size, rooms=rooms
    )
