"""A gateway's link to one host process, and the session streams that ride it.

Every stream (a WebSocket channel, an SSE viewer of a design run, a viewer of a workspace
run) gets an id of its own on the link when it opens; the host sends its events and its
end under that id, and closing it closes that stream only. So any number of viewers of
one session share a link without cutting each other off.
"""

from __future__ import annotations

import asyncio
import itertools
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
    """This gateway's link to one host process, and the streams riding it, by stream id."""

    def __init__(self, info: HostInfo, link: Link, reader: asyncio.Task[None]) -> None:
        self.info = info
        self.link = link
        self.reader = reader
        self.streams: dict[int, StreamQueue] = {}
        self.stages: dict[int, StageQueue] = {}
        self._stream_ids = itertools.count(1)
        link.handler = self._handle
        link.on_close(self._closed)

    def open_stream(self, queue: StreamQueue | StageQueue) -> int:
        """Register a stream about to be opened on the host; returns its id on this link."""
        stream_id = next(self._stream_ids)
        if isinstance(queue, StageQueue):
            self.stages[stream_id] = queue
        else:
            self.streams[stream_id] = queue
        return stream_id

    def not_opened(self, stream_id: int) -> None:
        """The host refused to open it (or the link went): nothing to tell the host."""
        self.streams.pop(stream_id, None)
        self.stages.pop(stream_id, None)

    def _handle(self, link: Link, message: list[Any]) -> None:
        if message[0] != Kind.NOTIFY:
            return
        _, topic, (stream_id, body) = message
        # A stream closed here while the host was still sending is simply gone.
        if topic == HostTopic.STAGE_EVENTS:
            stages = self.stages.get(stream_id)
            if stages is not None:
                stages.push([StageEventItem(*item) for item in body])
        elif topic == HostTopic.EVENTS:
            stream = self.streams.get(stream_id)
            if stream is not None:
                stream.push([Delivery(Scope(s), k, p, c) for s, k, p, c in body])
        elif topic == HostTopic.END:
            ended = self.streams.get(stream_id)
            if ended is not None:
                ended.end(StreamEnd(body))

    def _closed(self, link: Link) -> None:
        streams, self.streams = list(self.streams.values()), {}
        for stream in streams:
            stream.end(StreamEnd.RESTART)
        stages, self.stages = list(self.stages.values()), {}
        for queue in stages:
            queue.end(StreamEnd.RESTART)

    def close_stream(self, stream_id: int, session_id: str) -> None:
        """Forget the stream here and tell the host (once), so its session stops sending."""
        if self.streams.pop(stream_id, None) is not None:
            topic = HostTopic.UNSUBSCRIBE
        elif self.stages.pop(stream_id, None) is not None:
            topic = HostTopic.UNLISTEN
        else:
            return
        if self.link.closed:
            return
        try:
            self.link.notify(topic, [session_id, stream_id])
        except LinkClosed as exc:
            log.debug("%s on a closed link session=%s stream=%d: %s", topic.name, session_id, stream_id, exc)


class LinkStream:
    def __init__(self, host: HostLink, stream_id: int, queue: StreamQueue, owner: str | None) -> None:
        self._host = host
        self._stream_id = stream_id
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
            self._host.link.notify(HostTopic.FRAMES, [self.session_id, self._stream_id, list(batch)])
        except LinkClosed:
            self._queue.end(StreamEnd.RESTART)

    def events(self) -> AsyncIterator[StreamItem]:
        return self._queue.items()

    async def close(self) -> None:
        self._host.close_stream(self._stream_id, self.session_id)


class LinkStageStream:
    def __init__(self, host: HostLink, stream_id: int, queue: StageQueue) -> None:
        self._host = host
        self._stream_id = stream_id
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
        self._host.close_stream(self._stream_id, self._queue.session_id)
