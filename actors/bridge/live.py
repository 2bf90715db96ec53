"""A Bridge session inside its host: the pure core plus durability, subscribers and frames.

Changes are applied to the in-memory document at once (in the order they arrive on the
actor's loop), queued for the write-ahead log, and their callers are released only when
the store has committed them. One flush loop per session keeps the log in sequence order.
It implements the host's ``LiveSession`` interface (``actors/core/live.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from storage.bridge.records import Append
from storage.clock import utc_now_iso
from storage.retries import RetryEpisode

from ..core.awareness import AwarenessRegistry, agent_client_id
from ..core.events import Delivery, StreamEnd
from ..core.fanout import Fanout, Peer
from ..core.sync import Inbound, Scope, process_frames
from ..errors import TooManyStreams
from ..protocol.lib0 import write_var_bytes, write_var_uint
from ..protocol.messages import MessageType, sync_update
from ..store.client import StoreClient
from .presence import Presence
from .session import Change, Session
from .settings import BridgeHostSettings
from .undo import UndoJournal
from .versions import VersionClock

__all__ = ["AgentHooks", "BridgeLive"]

log = logging.getLogger(__name__)

_ACK_APPLIED = write_var_uint(1)


class AgentHooks(Protocol):
    """What a live Bridge session tells its agent features (``agents.BridgeAgents``)."""

    @property
    def webhooks_enabled(self) -> bool: ...

    def changes(self, live: BridgeLive, changes: list[Change]) -> None: ...

    def tick(self, live: BridgeLive) -> None: ...

    def presence(self, live: BridgeLive, current: dict[str, Any]) -> None: ...


class BridgeLive:
    kind = "bridge"

    def __init__(
        self,
        core: Session,
        store: StoreClient,
        settings: BridgeHostSettings,
        agents: AgentHooks,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self._agents = agents
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
        # Agent features (actors/bridge/agents.py): undo, automatic versions, webhooks.
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

    @property
    def running(self) -> bool:
        return False  # the Bridge has no AI runs

    def is_idle(self, idle_timeout: float) -> bool:
        return (
            len(self.fanout) == 0
            and not self._pending
            and self._flusher is None
            and self._snapshotting is None
            and self._clock() - self.last_activity >= idle_timeout
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

    async def checkpoint(self, *, force: bool = False) -> None:
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

    # -- realtime ---------------------------------------------------------------------

    def subscribe(self, peer: Peer, max_streams: int) -> str | None:
        if peer not in self.fanout:
            TooManyStreams.check(self.id, len(self.fanout), max_streams)
        self.fanout.add(peer)
        return None  # any caller the gateway let in may open a Bridge document

    def peer_closed(self, peer_id: int) -> None:
        self.fanout.drop(peer_id)
        self.touch()

    def frames(self, peer: Peer, items: Sequence[Inbound], now: float) -> bool:
        """Apply a gateway's batch of frames; replies and acks go back to ``peer``.

        Returns at once after applying: acknowledgements follow when the batch's changes
        are committed, so the next batch need not wait for the store.
        """
        if peer not in self.fanout:
            return False
        self.touch()
        batch = list(items)
        if self.backlogged:
            # Refused edits stay unsynced in their clients, which resend them later.
            batch = [(conn, kind, payload, False) for conn, kind, payload, _ in batch]
        outcome = process_frames(self.core, self.awareness, batch, now=now, now_iso=utc_now_iso())
        self.fanout.to_peer(
            peer, [Delivery(Scope.TO_CONN, kind, payload, conn) for conn, kind, payload in outcome.direct]
        )
        self.fanout.to_all(
            [Delivery(scope, kind, payload, conn) for scope, kind, payload, conn in outcome.broadcast],
            origin=peer,
        )
        agents = self._agents
        if outcome.changes:
            agents.changes(self, outcome.changes)
        if agents.webhooks_enabled and any(b[1] == MessageType.AWARENESS for b in outcome.broadcast):
            agents.presence(self, self.presence_json(now))
        if outcome.changes:
            # The log is ordered: the batch's last row committed means all did.
            committed = self.record_all(outcome.changes)
            if outcome.acks:
                committed.add_done_callback(partial(self._ack_committed, peer, outcome.acks))
        elif outcome.acks:
            self._ack(peer, outcome.acks)
        return True

    def _ack(self, peer: Peer, conns: list[int]) -> None:
        self.fanout.to_peer(
            peer, [Delivery(Scope.TO_CONN, MessageType.SYNC_STATUS, _ACK_APPLIED, c) for c in conns]
        )

    def _ack_committed(self, peer: Peer, conns: list[int], last: asyncio.Future[None]) -> None:
        """Acknowledge once the batch's last row is committed (a callback, not a task per batch)."""
        if last.cancelled():
            return
        exc = last.exception()
        if exc is not None:  # deleted meanwhile: nothing to acknowledge
            log.info("acks dropped session=%s: %s", self.id, exc)
            return
        self._ack(peer, conns)

    # -- presence ---------------------------------------------------------------------

    def tick(self, now: float) -> None:
        self.presence.expire(now)
        self._agents.tick(self)
        removed = self.awareness.expire(now=now)
        if removed is not None:
            self.broadcast_awareness(removed)
        self.awareness.forget_removed(now=now)
        if self._agents.webhooks_enabled:
            self._agents.presence(self, self.presence_json(now))

    def presence_json(self, now: float) -> dict[str, Any]:
        """REST agents plus every awareness state (keyed by agentId, else by client id)."""
        merged: dict[str, Any] = {}
        agent_ids = {agent_client_id(e.agent_id) for e in self.presence.entries(now)}
        for client_id, state in self.awareness.states().items():
            if client_id in agent_ids:
                continue
            agent = state.get("agentId")
            key = agent if isinstance(agent, str) and agent else f"client:{client_id}"
            merged[key] = {**state, "clientId": client_id}
        merged.update(self.presence.to_json(now))
        return merged
