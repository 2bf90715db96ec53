"""A live session inside its host actor: the pure core plus durability and subscribers.

Changes are applied to the in-memory document at once (in the order they arrive on the
actor's loop), queued for the write-ahead log, and their callers are released only when
the store has committed them. One flush loop per session keeps the log in sequence order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from storage.records import Append
from storage.retries import RetryEpisode

from ..bridge.undo import UndoJournal
from ..bridge.versions import VersionClock
from ..core.awareness import AwarenessRegistry
from ..core.events import Delivery, StreamEnd
from ..core.presence import Presence
from ..core.session import Change, Session
from ..core.sync import Scope
from ..protocol.lib0 import write_var_bytes
from ..protocol.messages import MessageType, sync_update
from ..settings import ActorSettings
from ..store.client import StoreClient
from .fanout import Fanout

__all__ = ["LiveSession"]

log = logging.getLogger(__name__)


class LiveSession:
    def __init__(
        self,
        core: Session,
        store: StoreClient,
        settings: ActorSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self._store = store
        self._settings = settings
        self._clock = clock
        self._pending: list[Append] = []
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._snapshotting: asyncio.Task[None] | None = None
        self.committed_seq = core.last_seq
        self._log_updates = 0
        self._log_bytes = 0
        self._deleted = False
        self.last_activity = clock()
        self.fanout = Fanout(core.id)
        self.awareness = AwarenessRegistry(settings.presence_timeout)
        self.presence = Presence(settings.presence_timeout)
        # Agent features (actors/host/bridge.py): undo, automatic versions, webhooks.
        self.journal = UndoJournal(settings.versions.undo_changes, settings.versions.max_conflicts)
        self.version_clock = VersionClock.from_settings(settings.versions)
        self.last_author = "api"
        # session.changed webhook: who changed it, and how often, since the last event.
        self.hook_authors: set[str] = set()
        self.hook_changes = 0
        self.hook_timer: asyncio.TimerHandle | None = None
        self.announced: set[str] = set()

    @property
    def id(self) -> str:
        return self.core.id

    def touch(self) -> None:
        self.last_activity = self._clock()

    @property
    def unflushed(self) -> int:
        return len(self._pending)

    @property
    def backlogged(self) -> bool:
        """The store is too far behind: refuse new changes rather than hold them unbounded."""
        return len(self._pending) >= self._settings.max_unflushed_rows

    def is_idle(self) -> bool:
        return (
            len(self.fanout) == 0
            and not self._pending
            and self._flusher is None
            and self._snapshotting is None
            and self._clock() - self.last_activity >= self._settings.idle_timeout
        )

    # -- durability -------------------------------------------------------------------

    def record(self, change: Change) -> asyncio.Future[None]:
        """Queue a change for the log; the future resolves once it is committed."""
        return self.record_all([change])

    def record_all(self, changes: list[Change]) -> asyncio.Future[None]:
        """Queue changes for the log, in order; one future resolves once all are committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        if self._deleted:
            fut.set_exception(RuntimeError("session deleted"))
            return fut
        self._pending.extend(change.append for change in changes)
        self._waiters.append((changes[-1].append.seq, fut))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush(), name=f"flush:{self.id}")
        return fut

    async def commit(self, change: Change) -> None:
        await self.record(change)

    @property
    def deleted(self) -> bool:
        return self._deleted

    async def wait_committed(self, seq: int) -> None:
        """Returns once every change up to log sequence ``seq`` is committed."""
        if self.committed_seq >= seq:
            return
        if self._deleted:
            raise RuntimeError("session deleted")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Waiters are kept in sequence order; seq is at most the newest pending row's.
        index = len(self._waiters)
        while index > 0 and self._waiters[index - 1][0] > seq:
            index -= 1
        self._waiters.insert(index, (seq, fut))
        await fut

    async def _flush(self) -> None:
        delay = 0.01
        # A store outage is one episode in the log (one warning, one recovery line), not a
        # line per retry: the rows are kept and retried until they commit.
        episode = RetryEpisode(log, "commit")
        try:
            while self._pending and not self._deleted:
                batch = self._pending[: self._settings.flush_max_rows]
                try:
                    await self._store.append(batch)
                except Exception as exc:  # store or Ray failure: keep the rows, retry
                    episode.failed(exc, f"session={self.id} rows={len(batch)}")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._settings.commit_retry_max_delay)
                    continue
                episode.succeeded(f"session={self.id}")
                delay = 0.01
                del self._pending[: len(batch)]
                self.committed_seq = batch[-1].seq
                self._log_updates += len(batch)
                self._log_bytes += sum(len(row.data) for row in batch)
                while self._waiters and self._waiters[0][0] <= self.committed_seq:
                    _, fut = self._waiters.popleft()
                    if not fut.done():
                        fut.set_result(None)
        finally:
            self._flusher = None
        if (
            self._log_updates >= self._settings.snapshot_every_updates
            or self._log_bytes >= self._settings.snapshot_every_bytes
        ):
            self.start_snapshot()

    def start_snapshot(self) -> None:
        if self._snapshotting is None and not self._deleted:
            self._snapshotting = asyncio.get_running_loop().create_task(
                self._snapshot(), name=f"snapshot:{self.id}"
            )

    async def _snapshot(self) -> None:
        # The state may hold changes newer than committed_seq; replaying their log rows
        # over it on restore is a no-op, so the snapshot is still exact.
        seq = self.committed_seq
        data = self.core.full_update()
        try:
            await self._store.snapshot(self.id, seq, data)
            self._log_updates = 0
            self._log_bytes = 0
            log.debug("snapshot session=%s seq=%d bytes=%d", self.id, seq, len(data))
        except Exception as exc:  # the log still holds everything: retried at the next threshold
            log.warning("snapshot failed session=%s: %s", self.id, exc)
        finally:
            self._snapshotting = None

    async def checkpoint(self) -> None:
        """Flush, then snapshot if the log has grown since the last snapshot."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._snapshotting is not None:
            await asyncio.shield(self._snapshotting)
        if self._log_updates > 0:
            self.start_snapshot()
            if self._snapshotting is not None:
                await asyncio.shield(self._snapshotting)

    # -- fan-out ----------------------------------------------------------------------

    def broadcast_update(self, update: bytes) -> None:
        """A server-made document change (REST ops) for every synced connection."""
        self.fanout.to_all([Delivery(Scope.TO_OTHERS, MessageType.SYNC, sync_update(update), -1)])

    def broadcast_awareness(self, update: bytes) -> None:
        self.fanout.to_all([Delivery(Scope.TO_ALL, MessageType.AWARENESS, write_var_bytes(update), -1)])

    def mark_deleted(self) -> None:
        self._deleted = True
        self.fanout.end_all(StreamEnd.DELETED)
        self._pending.clear()
        while self._waiters:
            _, fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(RuntimeError("session deleted"))

    def close(self) -> None:
        self.fanout.end_all(StreamEnd.RESTART)
        self.core.close()
