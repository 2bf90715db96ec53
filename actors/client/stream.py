"""A realtime stream's receiving end: a bounded, ordered queue of what the session sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from ..core.events import Delivery, StreamEnd
from .base import StreamItem

__all__ = ["StreamQueue"]

log = logging.getLogger(__name__)


class StreamQueue:
    """Deliveries in arrival order; past ``limit`` batches the stream ends with OVERFLOW."""

    def __init__(self, session_id: str, limit: int) -> None:
        self.session_id = session_id
        self._limit = limit
        self._queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self.ended: StreamEnd | None = None

    def push(self, events: list[Delivery]) -> None:
        if self.ended is not None:
            return
        if self._queue.qsize() >= self._limit:
            log.warning("stream overflow session=%s queued=%d", self.session_id, self._queue.qsize())
            self.end(StreamEnd.OVERFLOW)
            return
        self._queue.put_nowait(events)

    def end(self, reason: StreamEnd) -> None:
        if self.ended is None:
            self.ended = reason
            self._queue.put_nowait(reason)

    async def items(self) -> AsyncIterator[StreamItem]:
        while True:
            item = await self._queue.get()
            yield item
            if isinstance(item, StreamEnd):
                return
