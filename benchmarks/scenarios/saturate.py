"""saturate: raise the offered edit rate step by step until delivery p99 passes a bound.

The result is the highest offered rate whose step was *sustained*: the load generator
really sent it, every edit reached every other editor of its room, nothing failed, and the
delivery p99 stayed under the bound. When the load generator itself falls behind, the run
stops there and the result is a lower bound for that server ("client-bound").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..config import SaturateOptions, saturate_rates
from ..loadgen.plan import StepPlan
from ..loadgen.pool import WorkerPool
from ..report.model import RunResult, StepResult
from .common import RunContext, editor_plans, measure_step, running_pool, step_start, worker_plans

__all__ = ["CLIENT_BOUND", "MAX_STEP_DRAIN", "judge_step", "run_saturate", "run_steps", "saturate_budget"]

CLIENT_BOUND = "client-bound"
# A step counts as offered when the load generator sent at least this share of its edits.
MIN_SENT_SHARE = 0.95
# Saturation steps drain for at most this long: a server this far behind has failed the step.
MAX_STEP_DRAIN = 5.0


def judge_step(step: StepResult, p99_bound_ms: float) -> str | None:
    """Why ``step`` was not sustained, or None when it was (pure)."""
    if step.offered_rate > 0 and step.achieved_rate < MIN_SENT_SHARE * step.offered_rate:
        return f"{CLIENT_BOUND}: sent {step.achieved_rate:.0f}/s of {step.offered_rate:.0f}/s offered"
    if step.errors or step.rejected:
        return f"{step.errors} errors, {step.rejected} rejected"
    if step.lost:
        return f"{step.lost} of {step.expected} deliveries missing after the drain"
    if step.pending_acks:
        return f"{step.pending_acks} edits never acknowledged"
    p99 = step.latency.percentile_ms(0.99)
    if p99 is None:
        return "no deliveries measured"
    if p99 > p99_bound_ms:
        return f"p99 {p99:.1f} ms > {p99_bound_ms:g} ms"
    lag = step.send_lag.percentile_ms(0.99)
    if lag is not None and lag > p99_bound_ms:
        # The edits went out late: the load generator, not the server, set this pace.
        return f"{CLIENT_BOUND}: send lag p99 {lag:.0f} ms > {p99_bound_ms:g} ms"
    return None


def saturate_budget(options: SaturateOptions, drain: float, connect: float) -> float:
    steps = len(saturate_rates(options))
    return connect + steps * (options.step_duration + min(drain, MAX_STEP_DRAIN) + 30.0) + 120.0


async def run_saturate(ctx: RunContext, options: SaturateOptions, result: RunResult) -> None:
    rooms = math.ceil(options.clients / options.room_size)
    documents = await ctx.server.create_documents(rooms)
    clients = editor_plans(ctx, documents, options.room_size, options.clients)
    lifetime = saturate_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout) + 30.0
    async with running_pool(ctx, worker_plans(ctx, clients, lifetime=lifetime)) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        await run_steps(
            ctx,
            pool,
            result,
            rates=saturate_rates(options),
            senders=options.clients,
            step_duration=options.step_duration,
            p99_bound_ms=options.p99_bound_ms,
        )
    result.params.update(
        clients=options.clients,
        room_size=options.room_size,
        start_rate=options.start_rate,
        growth=options.growth,
        step_duration=options.step_duration,
    )


async def run_steps(
    ctx: RunContext,
    pool: WorkerPool,
    result: RunResult,
    *,
    rates: Sequence[float],
    senders: int,
    step_duration: float,
    p99_bound_ms: float,
) -> None:
    """Offer each of ``rates`` (edits/s, all senders) in turn until a step is not sustained.

    Appends every step to ``result`` and records the highest sustained rate and why it stopped.
    """
    drain = min(ctx.run.drain_timeout, MAX_STEP_DRAIN)
    sustained = 0.0
    reason = f"reached the last step ({len(rates)} steps)"
    for index, offered in enumerate(rates):
        step = StepPlan(
            step=index,
            start_ns=step_start(),
            duration=step_duration,
            client_rate=offered / senders,
            max_updates=math.ceil(offered * step_duration * 1.05) + senders,
        )
        measured = await measure_step(ctx, pool, step, senders=senders, offered_rate=offered, drain=drain)
        result.steps.append(measured)
        verdict = judge_step(measured, p99_bound_ms)
        if verdict is not None:
            reason = f"step {index} ({offered:.0f}/s): {verdict}"
            break
        sustained = offered
    result.extra.update(
        max_sustained_rate=sustained,
        stop_reason=reason,
        client_bound=CLIENT_BOUND in reason,
        p99_bound_ms=p99_bound_ms,
    )
