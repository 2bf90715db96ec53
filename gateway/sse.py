"""Streaming a session's events (design stages, workspace runs) as Server-Sent Events (aiohttp-sse).

Each committed event is one ``stage_event`` frame whose ``id:`` is its log id, so a client
that drops reconnects with ``Last-Event-ID`` and loses nothing. A stream that follows a run
ends with ``done`` after that run's terminal event; a stream cut by its session's host
going away ends without ``done`` so the client reconnects. Heartbeat comments keep idle
streams open through proxies; the stream stops with the gateway (``on_shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from actors.client import StageEventItem, StageEventStream, StreamEnd

from .limits.limiter import LIMITER

__all__ = ["stop_streams", "stream_stage_events"]

log = logging.getLogger(__name__)

_EVENT = "stage_event"
_DONE = "done"
_DONE_DATA = orjson.dumps({"finished": True}).decode()


async def _send(resp: EventSourceResponse, event: StageEventItem, name: str) -> None:
    await resp.send(event.data.decode(), id=str(event.id), event=name)


async def stream_stage_events(
    request: web.Request,
    session_id: str,
    stream: StageEventStream,
    *,
    follow_run: str | None,
    heartbeat: float,
    streams: set[EventSourceResponse],
    event: str = _EVENT,
    slot_held: bool = False,
) -> EventSourceResponse:
    """Send the replay, then live events until ``follow_run`` (or the live run) ends.

    With no run to follow the replay is all there is: ``done`` follows it at once.
    ``slot_held``: the caller already holds one of the user's stream slots for it.
    """
    follow = follow_run or stream.live_run
    headers = {"X-Session-Id": session_id}
    # 429 past ATELIER_SSE_MAX_PER_USER streams open at once for this user.
    slot = contextlib.nullcontext() if slot_held else request.config_dict[LIMITER].stream_slot(request)
    try:
        async with (
            slot,
            sse_response(request, headers=headers, ping_interval=heartbeat, allow_all_methods=True) as resp,
        ):
            streams.add(resp)
            try:
                await _stream(resp, stream, follow, event)
            except ConnectionResetError as exc:  # the client went away; its run goes on
                log.info("stage stream client gone session=%s: %s", session_id, exc)
            finally:
                streams.discard(resp)
        return resp
    finally:
        await stream.close()


async def _stream(resp: EventSourceResponse, stream: StageEventStream, follow: str | None, name: str) -> None:
    for event in stream.replay:
        await _send(resp, event, name)
        if event.terminal and event.run_id == follow:
            follow = None
            break
    if follow is not None:
        await _follow(resp, stream, follow, name)
        return
    await resp.send(_DONE_DATA, event=_DONE)


async def _follow(resp: EventSourceResponse, stream: StageEventStream, run_id: str, name: str) -> None:
    async for item in stream.events():
        if isinstance(item, StreamEnd):
            # The host went away mid-run: no ``done``, so the client reconnects with
            # its Last-Event-ID and picks up the (resumable) run's committed events.
            log.info("stage stream cut reason=%s run=%s", item.name, run_id)
            return
        for event in item:
            await _send(resp, event, name)
            if event.terminal and event.run_id == run_id:
                await resp.send(_DONE_DATA, event=_DONE)
                return


async def stop_streams(streams: set[EventSourceResponse]) -> None:
    """Close every open stream (the gateway is shutting down); clients reconnect elsewhere."""
    for resp in list(streams):
        resp.stop_streaming()
    await asyncio.gather(*(resp.wait() for resp in list(streams)), return_exceptions=True)
