"""Group commit: many concurrent appends, from many sessions, become one transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from ..latency import LatencyHistogram
from ..retries import RetryEpisode
from .base import Store
from .records import Append

__all__ = ["GroupCommitter"]

log = logging.getLogger(__name__)


class GroupCommitter:
    """Queues appends while a commit is in flight and commits the queue as the next batch.

    Under no load a lone append commits at once (no added delay); under load each
    transaction carries everything that arrived during the previous one, bounded by
    ``max_batch_rows``. A failed transaction fails exactly the callers whose rows it held.
    """

    def __init__(self, store: Store, max_batch_rows: int = 4096) -> None:
        self._store = store
        self._max = max_batch_rows
        self._queue: list[tuple[Sequence[Append], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # a transaction is in flight
        self.transactions = 0
        self.rows = 0
        # Its callers retry their rows: a store outage is logged once, not once per transaction.
        self._episode = RetryEpisode(log, "group commit")
        self.latency = LatencyHistogram()  # seconds per committed transaction

    @property
    def queued_rows(self) -> int:
        """Rows waiting for the next transaction (not those of the one in flight)."""
        return sum(len(part) for part, _ in self._queue)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for _, fut in self._queue:
            if not fut.done():
                fut.set_exception(RuntimeError("group committer stopped"))
        self._queue.clear()

    async def append(self, rows: Sequence[Append]) -> None:
        if not rows:
            return
        self.start()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((rows, fut))
        self._wake.set()
        await fut

    async def barrier(self) -> None:
        """Returns once every append queued before this call has been committed or failed.

        A session loaded while rows of its previous owner are still queued here would miss
        them and then reuse their sequence numbers; loads wait for this first.
        """
        if not self._queue and not self._busy:
            return
        self.start()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(((), fut))
        self._wake.set()
        await fut

    def _take_batch(self) -> list[tuple[Sequence[Append], asyncio.Future[None]]]:
        batch: list[tuple[Sequence[Append], asyncio.Future[None]]] = []
        count = 0
        while self._queue and (not batch or count + len(self._queue[0][0]) <= self._max):
            item = self._queue.pop(0)
            batch.append(item)
            count += len(item[0])
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._take_batch()
                rows = [row for part, _ in batch for row in part]
                started = time.perf_counter()
                self._busy = True
                try:
                    if rows:
                        await self._store.append(rows)
                except Exception as exc:  # the store's failure is each caller's failure
                    self._episode.failed(exc, f"rows={len(rows)}")
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                finally:
                    self._busy = False
                if not rows:  # only barriers: nothing was committed
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_result(None)
                    continue
                self._episode.succeeded()
                self.latency.observe(time.perf_counter() - started)
                self.transactions += 1
                self.rows += len(rows)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
