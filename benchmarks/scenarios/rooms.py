"""rooms: many documents with a few editors each, every editor typing at a modest rate.

Where fanout stresses one large room, this is the shape of a busy deployment: the server
holds many live documents at once, each with its own small audience. Same load generator,
same measured step as fanout (``run_room_load``); the report adds what many rooms cost:
memory, CPU, and how long the editors took to join.
"""

from __future__ import annotations

import asyncio

from ..config import LIMITS, RoomsOptions
from ..report.model import MIB, RunResult
from .common import SETTLE, RunContext, SkipRun
from .fanout import run_room_load

__all__ = ["rooms_budget", "run_rooms", "settle_rooms"]

# Creating a document may start a session (atelier: over REST, one at a time); allowance each.
_CREATE_ALLOWANCE = 2.0


def rooms_budget(options: RoomsOptions, drain: float, connect: float) -> float:
    """Seconds after which the run is abandoned (a hard bound, never hit when healthy)."""
    return connect + options.rooms * _CREATE_ALLOWANCE + options.duration + drain + 120.0


async def settle_rooms(ctx: RunContext, rooms: int) -> None:
    """Skip a target that cannot hold ``rooms`` live documents; then the idle server's memory mark."""
    info = ctx.server.target.info
    if info.process_per_session and rooms > LIMITS.max_session_processes:
        raise SkipRun(
            f"{info.title} runs a process per live document: {rooms} rooms is over "
            f"{LIMITS.max_session_processes} (--rooms)"
        )
    await asyncio.sleep(SETTLE)
    await ctx.memory.mark("baseline")


async def run_rooms(ctx: RunContext, options: RoomsOptions, result: RunResult) -> None:
    await settle_rooms(ctx, options.rooms)
    await run_room_load(
        ctx,
        result,
        clients=options.clients,
        room_size=options.editors,
        rate=options.rate,
        duration=options.duration,
        budget=rooms_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout),
    )
    loaded = ctx.memory.marks.get("loaded")
    baseline = ctx.memory.marks.get("baseline")
    if loaded is not None and baseline is not None:
        # Live documents and their sockets, before any edit: what holding a room costs.
        result.extra["pss_per_room_mib"] = (loaded.pss - baseline.pss) / options.rooms / MIB
    result.params.update(
        rooms=options.rooms, editors=options.editors, rate=options.rate, duration=options.duration
    )
