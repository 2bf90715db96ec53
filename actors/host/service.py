"""A host's links: gateways' requests and frames in, each stream's events out.

A gateway opens any number of streams over its one link (a WebSocket channel, an SSE
viewer of a design run, a viewer of a workspace run), each under an id the gateway
chose; every stream is its own ``Peer`` of its session, and everything sent for it
carries its id, so one stream's end is never another's. Requests run as tasks (kept, so
shutdown can await them); frames are applied at once, in the order they arrive on the
link, which is the order the gateway sent them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from enum import IntEnum
from typing import Any

from storage import StoreError

from ..core.errors import ValidationError, error_to_wire
from ..core.events import Delivery, StreamEnd
from ..core.ops import Op, answer_to_wire
from ..engine.live import WireEvent
from ..errors import SessionError
from ..link import Kind, Link, LinkClosed
from .core import HostCore
from .ops import HOST_OPS

__all__ = ["HostLinkHandler", "HostTopic", "LinkPeer"]

log = logging.getLogger(__name__)


class HostTopic(IntEnum):
    """One-way messages; a stream is named by the id its gateway gave it when opening it
    (an op that ``opens_stream`` carries it in its ``stream`` field)."""

    FRAMES = 1  # gateway -> host: [session, stream, [[conn, kind, payload, writable], ...]]
    UNSUBSCRIBE = 2  # gateway -> host: [session, stream]
    EVENTS = 3  # host -> gateway: [stream, [[scope, kind, payload, conn], ...]]
    END = 4  # host -> gateway: [stream, StreamEnd]
    STAGE_EVENTS = 5  # host -> gateway: [stream, [[id, run id, json, terminal], ...]]
    UNLISTEN = 6  # gateway -> host: [session, stream]


# Peer ids are this process's own: a link's streams and in-process streams never share one.
_peer_ids = itertools.count(1)


class LinkPeer:
    """One stream of a gateway, as its session sees it: what it is sent carries its id."""

    def __init__(self, link: Link, stream_id: int) -> None:
        self._link = link
        self.stream_id = stream_id
        self._peer_id = next(_peer_ids)

    @property
    def peer_id(self) -> int:
        return self._peer_id

    def _notify(self, topic: HostTopic, session_id: str, body: Any) -> None:
        try:
            self._link.notify(topic, [self.stream_id, body])
        except LinkClosed as exc:  # its close callback closes this stream everywhere
            log.debug(
                "%s for a closed link session=%s stream=%d: %s", topic.name, session_id, self.stream_id, exc
            )

    def deliver(self, session_id: str, events: list[Delivery]) -> None:
        self._notify(HostTopic.EVENTS, session_id, events)

    def stage_events(self, session_id: str, events: list[WireEvent]) -> None:
        self._notify(HostTopic.STAGE_EVENTS, session_id, events)

    def end(self, session_id: str, reason: StreamEnd) -> None:
        self._notify(HostTopic.END, session_id, int(reason))


# A link's open streams by the ids its gateway gave them.
LinkStreams = dict[int, LinkPeer]


class HostLinkHandler:
    def __init__(self, core: HostCore) -> None:
        self._core = core
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, link: Link) -> None:
        streams: LinkStreams = {}
        link.handler = lambda link, message: self._handle(link, streams, message)
        link.on_close(lambda _: self._link_closed(streams))

    def _link_closed(self, streams: LinkStreams) -> None:
        peers = list(streams.values())
        streams.clear()
        for peer in peers:
            self._core.peer_closed(peer.peer_id)

    def _handle(self, link: Link, streams: LinkStreams, message: list[Any]) -> None:
        kind = message[0]
        if kind == Kind.NOTIFY:
            _, topic, args = message
            if topic == HostTopic.FRAMES:
                session_id, stream_id, batch = args
                peer = streams.get(stream_id)
                if peer is None:  # closed, or never opened: the gateway must open it again
                    LinkPeer(link, stream_id).end(session_id, StreamEnd.RESTART)
                else:
                    self._core.frames(session_id, peer, batch)
            elif topic in (HostTopic.UNSUBSCRIBE, HostTopic.UNLISTEN):
                closed = streams.pop(args[1], None)
                if closed is not None:
                    self._core.peer_closed(closed.peer_id)
            else:
                log.warning("host link: unknown topic=%s", topic)
        elif kind == Kind.REQUEST:
            _, request_id, tag, fields = message
            try:
                op = HOST_OPS.decode(tag, fields)
            except ValidationError as exc:
                link.fail(request_id, *error_to_wire(exc))
                return
            opening: LinkPeer | None = None
            if type(op).opens_stream:
                stream_id = getattr(op, "stream", None)
                if not isinstance(stream_id, int) or stream_id in streams:
                    link.fail(
                        request_id,
                        *error_to_wire(
                            ValidationError("stream", "must be an integer id not open on this link")
                        ),
                    )
                    return
                # Registered before the link's next message is read: a close that follows
                # the request on the link finds it.
                opening = streams[stream_id] = LinkPeer(link, stream_id)
            task = asyncio.get_running_loop().create_task(
                self._answer(link, streams, request_id, op, opening)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, link: Link, streams: LinkStreams, request_id: int, op: Op[Any], opening: LinkPeer | None
    ) -> None:
        try:
            value = await self._run(streams, op, opening)
        except (SessionError, ValidationError, StoreError) as exc:
            link.fail(request_id, *error_to_wire(exc))
            return
        except Exception as exc:  # a bug must cost its request, not the link
            log.exception("host request failed op=%s", type(op).__name__)
            link.fail(request_id, "InternalError", str(exc))
            return
        link.reply(request_id, answer_to_wire(type(op), value))

    async def _run(self, streams: LinkStreams, op: Op[Any], opening: LinkPeer | None) -> Any:
        """The op's answer; a stream it opens is closed again if opening it failed, or if
        the gateway closed it (or the link went) meanwhile."""
        if opening is None:
            return await HOST_OPS.run(self._core, op)
        try:
            value = await HOST_OPS.run(self._core, op, opening)
        except BaseException:
            if streams.get(opening.stream_id) is opening:
                del streams[opening.stream_id]
            self._core.peer_closed(opening.peer_id)
            raise
        if streams.get(opening.stream_id) is not opening:
            self._core.peer_closed(opening.peer_id)
        return value

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
