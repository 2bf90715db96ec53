"""Group commit: many concurrent appends, from many sessions, become one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

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
        self.transactions = 0
        self.rows = 0

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
                try:
                    await self._store.append(rows)
                except Exception as exc:  # the store's failure is each caller's failure
                    log.warning("group commit of %d rows failed: %s", len(rows), exc)
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                self.transactions += 1
                self.rows += len(rows)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
