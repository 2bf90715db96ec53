"""Single-flight: concurrent requests for the same key share one in-flight computation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """Used for session activation, host dialling and stream start-up.

    The work runs in a task of its own: a caller that gives up (is cancelled) stops
    waiting, never the work the other callers wait for.
    """

    def __init__(self) -> None:
        self._inflight: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._inflight)

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._call(key, compute))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    async def _call(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        try:
            return await compute()
        finally:
            # Gone as the work ends, not a loop turn later: a request made after the work
            # has decided its result starts it again rather than joining the finished one.
            if self._inflight.get(key) is asyncio.current_task():
                del self._inflight[key]

    def _finished(self, key: K, task: asyncio.Task[V]) -> None:
        if self._inflight.get(key) is task:  # cancelled before it ran: _call never did this
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here; each waiter re-raises it itself
