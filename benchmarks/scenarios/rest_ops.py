"""rest-ops: agents post ops to ``/api/sessions/:id/ops`` while editors are connected and editing.

Measures the REST round trip (atelier answers after the change is committed), how long an
agent's op takes to reach the editors, and the editors' own delivery latency under that
load. Only servers with the REST ops API run it; the others are reported as skipped.
"""

from __future__ import annotations

import math

from ..config import RestOpsOptions
from ..loadgen.plan import AGENT_BASE, AgentPlan, StepPlan
from ..report.model import RunResult
from ..targets.servers import BENCH_ELEMENT
from .common import (
    RunContext,
    SkipRun,
    editor_plans,
    measure_step,
    running_pool,
    step_start,
    worker_plans,
)

__all__ = ["rest_ops_budget", "run_rest_ops"]


def rest_ops_budget(options: RestOpsOptions, drain: float, connect: float) -> float:
    return connect + options.duration + drain + 120.0


async def run_rest_ops(ctx: RunContext, options: RestOpsOptions, result: RunResult) -> None:
    if not ctx.server.target.info.rest_ops:
        raise SkipRun(f"{ctx.server.target.info.title} has no REST ops API")
    (document,) = await ctx.server.create_documents(1, with_element=True)
    clients = editor_plans(ctx, [document], options.editors, options.editors)
    agents = [
        AgentPlan(cid=AGENT_BASE + index, room=0, ops_url=ctx.server.ops_url(document), element=BENCH_ELEMENT)
        for index in range(options.agents)
    ]
    lifetime = rest_ops_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout) + 30.0
    async with running_pool(ctx, worker_plans(ctx, clients, agents, lifetime=lifetime)) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        step = StepPlan(
            step=0,
            start_ns=step_start(),
            duration=options.duration,
            client_rate=options.editor_rate,
            agent_rate=options.agent_rate,
            max_updates=math.ceil(options.total_updates() * 1.05) + options.editors + options.agents,
        )
        offered = options.editors * options.editor_rate + options.agents * options.agent_rate
        measured = await measure_step(
            ctx,
            pool,
            step,
            senders=options.editors + options.agents,
            offered_rate=offered,
            drain=ctx.run.drain_timeout,
        )
        result.steps.append(measured)
    ops = measured.agent_ops
    result.extra.update(
        ops_ok=ops,
        ops_per_s=ops / options.duration,
        offered_ops_per_s=options.agents * options.agent_rate,
    )
    result.params.update(
        editors=options.editors,
        editor_rate=options.editor_rate,
        agents=options.agents,
        agent_rate=options.agent_rate,
        duration=options.duration,
    )
