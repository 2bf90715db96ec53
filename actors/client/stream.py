"""A realtime stream's receiving end: a bounded, ordered queue of what the session sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from ..core.events import Delivery, StreamEnd
from .base import StageEventItem

__all__ = ["StageQueue", "StreamQueue"]

T = TypeVar("T")

log = logging.getLogger(__name__)


class _Queue(Generic[T]):
    """Batches in arrival order; past ``limit`` batches the stream ends with OVERFLOW."""

    def __init__(self, session_id: str, limit: int) -> None:
        self.session_id = session_id
        self._limit = limit
        self._queue: asyncio.Queue[list[T] | StreamEnd] = asyncio.Queue()
        self.ended: StreamEnd | None = None

    @property
    def queued(self) -> int:
        """Batches waiting to be read (for metrics)."""
        return self._queue.qsize()

    def push(self, events: list[T]) -> None:
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

    async def items(self) -> AsyncIterator[list[T] | StreamEnd]:
        while True:
            item = await self._queue.get()
            yield item
            if isinstance(item, StreamEnd):
                return


class StreamQueue(_Queue[Delivery]):
    """A realtime stream's deliveries."""


class StageQueue(_Queue[StageEventItem]):
    """A design session's live stage events, and the committed ones it started after."""

    def __init__(self, session_id: str, limit: int) -> None:
        super().__init__(session_id, limit)
        self.live_run: str | None = None
        self.replay: list[StageEventItem] = []
