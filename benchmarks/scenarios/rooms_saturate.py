"""rooms-saturate: the rooms load (many rooms of a few editors), the per-editor rate raised step by step.

Saturate's stepping (``run_steps``: the same verdict per step, the same *sustained* rule)
over rooms' shape: where saturate finds the ceiling of a few busy rooms, this finds it with
the server holding many live documents at once. Reports the highest sustained edits/s in
all, and for atelier the balance of its hosts: sessions (asked of the placement directory
before the first step) and cores per SessionHost process at the highest sustained step.
"""

from __future__ import annotations

import logging
from typing import Any

from ..config import RoomsSaturateOptions, saturate_rates
from ..report.model import RunResult, StepResult
from .common import RunContext, editor_plans, running_pool, worker_plans
from .rooms import settle_rooms
from .saturate import MAX_STEP_DRAIN, run_steps

__all__ = ["HOST_LABEL", "host_balance", "rooms_saturate_budget", "run_rooms_saturate"]

log = logging.getLogger(__name__)

HOST_LABEL = "ray::SessionHost"
# Creating a document may start a session (atelier: over REST, one at a time); allowance each.
_CREATE_ALLOWANCE = 2.0
_PROBE_ALLOWANCE = 90.0


def rooms_saturate_budget(options: RoomsSaturateOptions, drain: float, connect: float) -> float:
    """Seconds after which the run is abandoned (a hard bound, never hit when healthy)."""
    steps = len(saturate_rates(options))
    per_step = options.step_duration + min(drain, MAX_STEP_DRAIN) + 30.0
    return connect + options.rooms * _CREATE_ALLOWANCE + _PROBE_ALLOWANCE + steps * per_step + 120.0


def host_balance(hosts: list[dict[str, Any]], step: StepResult | None) -> list[dict[str, Any]]:
    """Per SessionHost process: pid, sessions and cores during ``step`` (pure).

    Hosts come from the directory (pid, sessions); processes labelled ``ray::SessionHost`` in
    the step's CPU split that the directory did not list are shown with sessions ``None``.
    """
    cores = {
        row["pid"]: row["cores"] for row in (step.process_cpu if step else []) if row["label"] == HOST_LABEL
    }
    rows = [{"pid": h["pid"], "sessions": h["sessions"], "cores": cores.get(h["pid"])} for h in hosts]
    listed = {h["pid"] for h in hosts}
    rows += [
        {"pid": pid, "sessions": None, "cores": value} for pid, value in cores.items() if pid not in listed
    ]
    return sorted(rows, key=lambda row: row["pid"])


async def run_rooms_saturate(ctx: RunContext, options: RoomsSaturateOptions, result: RunResult) -> None:
    await settle_rooms(ctx, options.rooms)
    ctx.progress.phase(f"creating {options.rooms} documents")
    documents = await ctx.server.create_documents(options.rooms)
    plans = editor_plans(ctx, documents, options.editors, options.clients)
    budget = rooms_saturate_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout)
    hosts: list[dict[str, Any]] | None = None
    async with running_pool(ctx, worker_plans(ctx, plans, lifetime=budget + 30.0)) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        if ctx.server.local:
            hosts = await _hosts(ctx, result)
        await run_steps(
            ctx,
            pool,
            result,
            rates=[rate * options.clients for rate in saturate_rates(options)],
            senders=options.clients,
            step_duration=options.step_duration,
            p99_bound_ms=options.p99_bound_ms,
        )
    best = float(result.extra.get("max_sustained_rate", 0.0))
    result.extra["max_sustained_per_editor"] = best / options.clients
    if hosts is not None:
        at_max = next((s for s in result.steps if s.offered_rate == best), None)
        result.extra["host_balance"] = host_balance(hosts, at_max)
    result.params.update(
        rooms=options.rooms,
        editors=options.editors,
        start_rate=options.start_rate,
        growth=options.growth,
        step_duration=options.step_duration,
    )


async def _hosts(ctx: RunContext, result: RunResult) -> list[dict[str, Any]] | None:
    """The server's hosts and their sessions, or None (no such hosts, or the probe failed)."""
    ctx.progress.phase("asking the hosts for their sessions")
    try:
        return await ctx.server.target.host_stats(ctx.server)
    except (OSError, TimeoutError, ValueError) as exc:
        log.warning("%s: host sessions unknown: %r", ctx.server.target.name, exc)
        result.extra["host_balance_error"] = f"{type(exc).__name__}: {exc}"
        return None
