"""A gateway's link to one host process, and the session streams that ride it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..core.events import Delivery, StreamEnd
from ..core.sync import Inbound, Scope
from ..host.service import HostTopic
from ..link import Kind, Link, LinkClosed
from ..placement import HostInfo
from .base import StageEventItem, StageStreamItem, StreamItem
from .stream import StageQueue, StreamQueue

__all__ = ["HostLink", "LinkStageStream", "LinkStream"]

log = logging.getLogger(__name__)


class HostLink:
    """This gateway's link to one host process, and the session streams riding it."""

    def __init__(self, info: HostInfo, link: Link, reader: asyncio.Task[None]) -> None:
        self.info = info
        self.link = link
        self.reader = reader
        self.streams: dict[str, StreamQueue] = {}
        self.stages: dict[str, StageQueue] = {}
        link.handler = self._handle
        link.on_close(self._closed)

    def _handle(self, link: Link, message: list[Any]) -> None:
        if message[0] != Kind.NOTIFY:
            return
        _, topic, (session_id, body) = message
        if topic == HostTopic.STAGE_EVENTS:
            stages = self.stages.get(session_id)
            if stages is not None:
                stages.push([StageEventItem(*item) for item in body])
            return
        stream = self.streams.get(session_id)
        if stream is None:
            return  # closed locally while the host was still sending
        if topic == HostTopic.EVENTS:
            stream.push([Delivery(Scope(s), k, p, c) for s, k, p, c in body])
        elif topic == HostTopic.END:
            self.streams.pop(session_id, None)
            stream.end(StreamEnd(body))

    def _closed(self, link: Link) -> None:
        streams, self.streams = list(self.streams.values()), {}
        for stream in streams:
            stream.end(StreamEnd.RESTART)
        stages, self.stages = list(self.stages.values()), {}
        for queue in stages:
            queue.end(StreamEnd.RESTART)


class LinkStream:
    def __init__(self, host: HostLink, queue: StreamQueue, owner: str | None) -> None:
        self._host = host
        self._queue = queue
        self._owner = owner

    @property
    def session_id(self) -> str:
        return self._queue.session_id

    @property
    def owner(self) -> str | None:
        return self._owner

    def send(self, batch: Sequence[Inbound]) -> None:
        if self._queue.ended is not None:
            return
        try:
            self._host.link.notify(HostTopic.FRAMES, [self.session_id, list(batch)])
        except LinkClosed:
            self._queue.end(StreamEnd.RESTART)

    def events(self) -> AsyncIterator[StreamItem]:
        return self._queue.items()

    async def close(self) -> None:
        if self._host.streams.get(self.session_id) is self._queue:
            del self._host.streams[self.session_id]
            if not self._host.link.closed:
                try:
                    self._host.link.notify(HostTopic.UNSUBSCRIBE, [self.session_id])
                except LinkClosed as exc:
                    log.debug("unsubscribe on a closed link session=%s: %s", self.session_id, exc)


class LinkStageStream:
    def __init__(self, host: HostLink, queue: StageQueue) -> None:
        self._host = host
        self._queue = queue

    @property
    def live_run(self) -> str | None:
        return self._queue.live_run

    @property
    def replay(self) -> list[StageEventItem]:
        return self._queue.replay

    def events(self) -> AsyncIterator[StageStreamItem]:
        return self._queue.items()

    async def close(self) -> None:
        session_id = self._queue.session_id
        if self._host.stages.get(session_id) is self._queue:
            del self._host.stages[session_id]
            if not self._host.link.closed:
                try:
                    self._host.link.notify(HostTopic.UNLISTEN, [session_id])
                except LinkClosed as exc:
                    log.debug("unlisten on a closed link session=%s: %s", session_id, exc)
