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
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any

from storage import StoreError

from ..bridge.theme import ThemeParams
from ..core.errors import ValidationError, error_to_wire
from ..core.events import Delivery, StreamEnd
from ..engine.live import WireEvent
from ..errors import SessionError
from ..link import Kind, Link, LinkClosed
from ..store.wire import record_from_wire
from .core import HostCore

__all__ = ["HostLinkHandler", "HostMethod", "HostTopic", "LinkPeer"]

log = logging.getLogger(__name__)


class HostMethod(IntEnum):
    CREATE = 1
    STATE = 2
    APPLY_OPS = 3
    SET_PRESENCE = 4
    GET_PRESENCE = 5
    DELETE = 6
    SUBSCRIBE = 7
    CREATE_DESIGN = 8
    GET_DESIGN = 9
    PATCH_DESIGN = 10
    ACT_DESIGN = 11
    LISTEN_DESIGN = 12
    PING = 13
    PREVIEW_MATERIALIZATION = 14
    MATERIALIZE = 15
    DESIGN_FILE = 16
    WORK_CREATE = 20
    WORK_GET = 21
    WORK_STATUS = 22
    WORK_TITLE = 23
    WORK_DELETE = 24
    WORK_HISTORY = 25
    WORK_START_RUN = 26
    WORK_WAIT_RUN = 27
    WORK_LISTEN_RUN = 28
    WORK_GET_RUN = 29
    WORK_CANCEL_RUN = 30
    VERSIONS_LIST = 40
    VERSION_CREATE = 41
    VERSION_STATE = 42
    VERSION_DIFF = 43
    VERSION_RESTORE = 44
    CHANGE_UNDO = 45


class HostTopic(IntEnum):
    """One-way messages; a stream is named by the id its gateway gave it when opening it
    (SUBSCRIBE, LISTEN_DESIGN, WORK_LISTEN_RUN carry it as their last argument)."""

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


# Workspace sessions: [session id, user, ...]; WORK_CREATE: [new id, user, project id, body].
_WORK: dict[HostMethod, Callable[[HostCore, list[Any]], Awaitable[Any]]] = {
    HostMethod.WORK_CREATE: lambda core, a: core.create_work(a[0], a[1], a[2], a[3]),
    HostMethod.WORK_GET: lambda core, a: core.get_work(a[1], a[0]),
    HostMethod.WORK_STATUS: lambda core, a: core.work_status(a[1], a[0], a[2]),
    HostMethod.WORK_TITLE: lambda core, a: core.work_title(a[1], a[0], a[2]),
    HostMethod.WORK_DELETE: lambda core, a: core.delete_work(a[1], a[0]),
    HostMethod.WORK_HISTORY: lambda core, a: core.work_history(a[1], a[0], a[2]),
    HostMethod.WORK_START_RUN: lambda core, a: core.start_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_WAIT_RUN: lambda core, a: core.wait_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_GET_RUN: lambda core, a: core.get_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_CANCEL_RUN: lambda core, a: core.cancel_work_run(a[1], a[0], a[2]),
}


# Bridge versions and undo: [session id, ...].
_BRIDGE: dict[HostMethod, Callable[[HostCore, list[Any]], Awaitable[Any]]] = {
    HostMethod.VERSIONS_LIST: lambda core, a: core.list_versions(a[0]),
    HostMethod.VERSION_CREATE: lambda core, a: core.create_version(a[0], a[1], a[2]),
    HostMethod.VERSION_STATE: lambda core, a: core.version_state(a[0], a[1]),
    HostMethod.VERSION_DIFF: lambda core, a: core.diff_versions(a[0], a[1], a[2]),
    HostMethod.VERSION_RESTORE: lambda core, a: core.restore_version(a[0], a[1], a[2]),
    HostMethod.CHANGE_UNDO: lambda core, a: core.undo_change(a[0], a[1], a[2]),
}


# A link's open streams by the ids its gateway gave them.
LinkStreams = dict[int, LinkPeer]

# The requests that open a stream, and where their arguments carry its id.
_OPENS_STREAM: dict[int, int] = {
    HostMethod.SUBSCRIBE: 1,
    HostMethod.LISTEN_DESIGN: 3,
    HostMethod.WORK_LISTEN_RUN: 3,
}


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
            _, request_id, method, args = message
            opening: LinkPeer | None = None
            at = _OPENS_STREAM.get(method)
            if at is not None:
                stream_id = args[at] if len(args) > at else None
                if not isinstance(stream_id, int) or isinstance(stream_id, bool) or stream_id in streams:
                    link.fail(
                        request_id, "ValidationError", "must be an integer id not open on this link", "stream"
                    )
                    return
                # Registered before the link's next message is read: a close that follows
                # the request on the link finds it.
                opening = streams[stream_id] = LinkPeer(link, stream_id)
            task = asyncio.get_running_loop().create_task(
                self._answer(link, streams, request_id, method, args, opening)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self,
        link: Link,
        streams: LinkStreams,
        request_id: int,
        method: int,
        args: list[Any],
        opening: LinkPeer | None,
    ) -> None:
        try:
            value = await self._run(streams, HostMethod(method), args, opening)
        except (SessionError, ValidationError, StoreError) as exc:
            link.fail(request_id, *error_to_wire(exc))
            return
        except Exception as exc:  # a bug must cost its request, not the link
            log.exception("host request failed method=%s", method)
            link.fail(request_id, "InternalError", str(exc))
            return
        link.reply(request_id, value)

    async def _run(
        self, streams: LinkStreams, method: HostMethod, args: list[Any], opening: LinkPeer | None
    ) -> Any:
        """The request's answer; a stream it opens is closed again if opening it failed,
        or if the gateway closed it (or the link went) meanwhile."""
        if opening is None:
            return await self._dispatch(method, args, None)
        try:
            value = await self._dispatch(method, args, opening)
        except BaseException:
            if streams.get(opening.stream_id) is opening:
                del streams[opening.stream_id]
            self._core.peer_closed(opening.peer_id)
            raise
        if streams.get(opening.stream_id) is not opening:
            self._core.peer_closed(opening.peer_id)
        return value

    async def _dispatch(self, method: HostMethod, args: list[Any], peer: LinkPeer | None) -> Any:
        core = self._core
        if method is HostMethod.SUBSCRIBE and peer is not None:  # [session, stream]
            return await core.subscribe(args[0], peer)
        if method is HostMethod.STATE:
            return await core.state(args[0])
        if method is HostMethod.PING:
            return await core.ping(args[0])
        if method is HostMethod.APPLY_OPS:  # [session, ops, agent id?, expected revision?, version label?]
            return await core.apply_ops(*args[:5])
        if method in _BRIDGE:
            return await _BRIDGE[method](core, args)
        if method is HostMethod.SET_PRESENCE:
            return await core.set_presence(*args)
        if method is HostMethod.GET_PRESENCE:
            return await core.get_presence(args[0])
        if method is HostMethod.DELETE:
            return await core.delete(args[0])
        if method is HostMethod.CREATE:
            record, spec, theme = args
            return await core.create(record_from_wire(record), spec, ThemeParams(**theme))
        # Design sessions: [session id, user, ...]; CREATE_DESIGN: [new id, user, body].
        if method is HostMethod.CREATE_DESIGN:
            return await core.create_design(args[0], args[1], args[2])
        if method is HostMethod.GET_DESIGN:
            return await core.get_design(args[1], args[0])
        if method is HostMethod.PATCH_DESIGN:
            return await core.patch_design(args[1], args[0], args[2])
        if method is HostMethod.ACT_DESIGN:
            return await core.act_design(args[1], args[0], args[2])
        if method is HostMethod.PREVIEW_MATERIALIZATION:
            return await core.preview_materialization(args[1], args[0])
        if method in _WORK:
            return await _WORK[method](core, args)
        if method is HostMethod.DESIGN_FILE:
            return await core.design_file(args[1], args[0], args[2])
        if method is HostMethod.MATERIALIZE:
            return await core.materialize(args[1], args[0])
        if method is HostMethod.WORK_LISTEN_RUN and peer is not None:  # [session, user, run, stream]
            return await core.listen_work_run(args[1], args[0], peer, args[2])
        if method is HostMethod.LISTEN_DESIGN and peer is not None:  # [session, user, after, stream]
            replay, run = await core.listen_design(args[1], args[0], peer, args[2])
            return [replay, run]
        raise ValueError(f"unknown host method {method}")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
