"""A live design session in its host: record, event log, CRDT document and the current run.

Every change goes through one ordered commit path: state and the events announcing it
are saved in one transaction (with the document's state), and only then are the events
sent to listening gateways and the document's updates to connected editors. So nothing
a client saw can be missing after a crash, and a rejoining client's ``Last-Event-ID``
always names a stored event.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import orjson
from pycrdt import Doc, TransactionEvent

from storage.clock import utc_now_iso
from storage.engine import DesignSessionRecord, StoredEvent
from storage.retries import RetryEpisode

from ..core.awareness import AwarenessRegistry
from ..core.events import Delivery
from ..core.fanout import Fanout, Peer
from ..core.sync import EMPTY_UPDATE, Inbound, Scope, process_frames
from ..errors import TooManyStreams
from ..protocol.lib0 import write_var_bytes
from ..protocol.messages import MessageType, sync_update
from ..store.client import EngineStoreClient
from .doc import apply_artifacts, set_stage
from .events import TERMINAL_TYPES, EventLog, LoggedEvent, StageEvent
from .settings import EngineSettings
from .stages import Stage, Status

__all__ = ["EngineListener", "EngineLive", "WireEvent"]

log = logging.getLogger(__name__)

# (event id, run id, JSON bytes, ends its run): what a gateway streams as SSE.
WireEvent = tuple[int, str, bytes, bool]


class EngineListener(Protocol):
    """One stream of a session's stage events (a gateway's, over its link or in process)."""

    @property
    def peer_id(self) -> int: ...

    def stage_events(self, session_id: str, events: list[WireEvent]) -> None: ...


def wire_event(logged: LoggedEvent) -> WireEvent:
    data = orjson.dumps(logged.event.to_json())
    return (logged.id, logged.run_id, data, logged.event.type in TERMINAL_TYPES)


class _NoChange:
    """Editors never change the design document (``_DocCore.apply_update`` refuses)."""

    update: bytes | None = None


class _DocCore:
    """The session document as the realtime frame processor sees it (read-only to editors)."""

    def __init__(self, session_id: str, doc: Doc[Any]) -> None:
        self.id = session_id
        self.doc = doc

    def full_update(self) -> bytes:
        return self.doc.get_update()

    def apply_update(self, update: bytes, *, now_iso: str, author: str) -> _NoChange | None:
        raise PermissionError("the design engine's document is written by the engine only")


class EngineLive:
    """A design session in its host; implements the host's ``LiveSession`` interface."""

    kind = "design"

    def __init__(
        self,
        record: DesignSessionRecord,
        tail: Sequence[StoredEvent],
        last_event_id: int,
        *,
        store: EngineStoreClient,
        settings: EngineSettings,
        presence_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.record = record
        self._store = store
        self._settings = settings
        self._clock = clock
        self.doc: Doc[Any] = Doc()
        if record.doc is not None:
            self.doc.apply_update(record.doc)
        else:
            apply_artifacts(self.doc, record.artifacts)
            set_stage(self.doc, Stage(record.stage), Status(record.status))
        self._captured: list[bytes] = []
        self._subscription = self.doc.observe(self._on_transaction)
        self.core = _DocCore(record.id, self.doc)
        # Ids only: what was sent is kept as sent (``_held``), byte for byte.
        self.log = EventLog(max_events=settings.event_memory, last_id=last_event_id)
        self._held: list[WireEvent] = [(e.event_id, e.run_id, e.data, _terminal(e.data)) for e in tail]
        self.fanout = Fanout(record.id)
        self.awareness = AwarenessRegistry(presence_timeout)
        self.listeners: dict[int, EngineListener] = {}
        # Commit path: mutations bump ``_dirty``; one flusher saves up to it, in order.
        self._pending: list[LoggedEvent] = []
        self._dirty = 0
        self._committed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.run_task: asyncio.Task[None] | None = None
        self.run_id: str | None = None
        self.deleted = False
        self.lock = asyncio.Lock()  # operations that must not interleave (materialization)
        self.last_activity = clock()

    # -- state ------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def stage(self) -> Stage:
        return Stage(self.record.stage)

    @property
    def status(self) -> Status:
        return Status(self.record.status)

    @property
    def artifacts(self) -> dict[str, Any]:
        return self.record.artifacts

    @property
    def running(self) -> bool:
        """A run is live until its terminal event is committed (and sent)."""
        return self.run_id is not None and self.run_task is not None and not self.run_task.done()

    @property
    def unflushed(self) -> int:
        return len(self._pending)

    def touch(self) -> None:
        self.last_activity = self._clock()

    def is_idle(self, idle_timeout: float) -> bool:
        return (
            not self.running
            and not self.listeners
            and len(self.fanout) == 0
            and self._flusher is None
            and not self._pending
            and self._clock() - self.last_activity >= idle_timeout
        )

    def update(self, **changes: Any) -> None:
        """Change the record (stage, status, artifacts, title, pending_run) in memory.

        The change reaches the store with the next commit; the document follows at once,
        its updates are sent to editors after that commit.
        """
        self.record = replace(self.record, **changes)
        if "artifacts" in changes:
            apply_artifacts(self.doc, self.record.artifacts)
        if "stage" in changes or "status" in changes:
            set_stage(self.doc, self.stage, self.status)
        self._dirty += 1

    def adopt(self, saved: DesignSessionRecord) -> None:
        """Take a record another transaction saved (materialization) as the session's own."""
        self.record = saved
        apply_artifacts(self.doc, saved.artifacts)
        set_stage(self.doc, self.stage, self.status)
        self._dirty += 1  # the document's new state goes out with the next commit

    def emit(self, run_id: str, event: StageEvent) -> LoggedEvent:
        """Append an event to the log; it is sent once committed."""
        logged = self.log.append(run_id, event)
        self._pending.append(logged)
        self._dirty += 1
        self._kick()
        return logged

    # -- commit -----------------------------------------------------------------------

    def _on_transaction(self, event: TransactionEvent) -> None:
        if event.update != EMPTY_UPDATE:
            self._captured.append(event.update)

    def _kick(self) -> None:
        if self._flusher is None and not self.deleted:
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush(), name=f"engine-flush:{self.id}"
            )

    async def commit(self) -> None:
        """Return once every change made so far is durable (and sent)."""
        target = self._dirty
        if self._committed >= target:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        self._kick()
        await fut

    async def _flush(self) -> None:
        delay = 0.01
        episode = RetryEpisode(log, "engine commit")  # an outage logs once, not once per retry
        try:
            while self._committed < self._dirty and not self.deleted:
                target = self._dirty
                events = list(self._pending)
                updates = list(self._captured)
                record = replace(self.record, updated_at=utc_now_iso(), doc=self.doc.get_update())
                stored = [
                    StoredEvent(self.id, e.id, e.run_id, orjson.dumps(e.event.to_json()), record.updated_at)
                    for e in events
                ]
                try:
                    saved = await self._store.save_session_with_events(record, self.record.revision, stored)
                except Exception as exc:  # the store or its link: keep everything, retry
                    episode.failed(exc, f"session={self.id} events={len(events)}")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._settings.commit_retry_max_delay)
                    continue
                episode.succeeded(f"session={self.id}")
                delay = 0.01
                # Changes made while the save was in flight stay pending for the next one.
                self.record = replace(self.record, revision=saved.revision, updated_at=saved.updated_at)
                del self._pending[: len(events)]
                del self._captured[: len(updates)]
                self._committed = target
                self._send(events, updates)
                still_waiting = []
                for wanted, fut in self._waiters:
                    if wanted <= self._committed:
                        if not fut.done():
                            fut.set_result(None)
                    else:
                        still_waiting.append((wanted, fut))
                self._waiters = still_waiting
        finally:
            self._flusher = None
            if self.deleted:
                self._fail_waiters(RuntimeError("session deleted"))

    def _send(self, events: list[LoggedEvent], updates: list[bytes]) -> None:
        if updates:
            self.fanout.to_all(
                [Delivery(Scope.TO_OTHERS, MessageType.SYNC, sync_update(u), -1) for u in updates]
            )
        if events:
            if any(e.run_id == self.run_id and e.event.type in TERMINAL_TYPES for e in events):
                self.run_id = None  # over for every client from the moment they can know it
            wire = [wire_event(e) for e in events]
            self._held.extend(wire)
            del self._held[: max(0, len(self._held) - self._settings.event_memory)]
            for listener in list(self.listeners.values()):
                listener.stage_events(self.id, wire)

    def broadcast_awareness(self, update: bytes) -> None:
        self.fanout.to_all([Delivery(Scope.TO_ALL, MessageType.AWARENESS, write_var_bytes(update), -1)])

    def _fail_waiters(self, exc: Exception) -> None:
        waiters, self._waiters = self._waiters, []
        for _, fut in waiters:
            if not fut.done():
                fut.set_exception(exc)

    # -- listeners --------------------------------------------------------------------

    async def listen(
        self, listener: EngineListener, after_id: int | None, *, max_listeners: int
    ) -> tuple[list[WireEvent], str | None]:
        """Register ``listener``; returns the committed events after ``after_id`` and the live run.

        Events older than memory come from the store; the memory part and the
        registration happen in one step, so nothing falls between replay and live.
        Each listener is one stream, keyed by its own id: any number up to
        ``max_listeners`` follow the session side by side.
        """
        start = after_id or 0
        replay: list[WireEvent] = []
        oldest = self._held[0][0] if self._held else self._committed_last_id() + 1
        while start + 1 < oldest:
            page = await self._store.read_events(
                self.id, start, min(self._settings.replay_page, oldest - start - 1)
            )
            if not page:
                break
            replay.extend((e.event_id, e.run_id, e.data, _terminal(e.data)) for e in page)
            start = page[-1].event_id
            oldest = self._held[0][0] if self._held else self._committed_last_id() + 1
        replay.extend(e for e in self._held if e[0] > start)
        TooManyStreams.check(self.id, len(self.listeners), max_listeners)
        self.listeners[listener.peer_id] = listener
        self.touch()
        return replay, self.run_id if self.running else None

    async def events_after(self, after_id: int | None, limit: int) -> tuple[list[WireEvent], bool]:
        """Up to ``limit`` committed events after ``after_id`` (for clients without SSE), and
        whether more follow. The store is read only for what memory no longer holds."""
        start = after_id or 0
        page: list[WireEvent] = []
        oldest = self._held[0][0] if self._held else self._committed_last_id() + 1
        if start + 1 < oldest:
            stored = await self._store.read_events(self.id, start, min(limit + 1, oldest - start - 1))
            page = [(e.event_id, e.run_id, e.data, _terminal(e.data)) for e in stored]
            if page:
                start = page[-1][0]
        if len(page) <= limit:
            page.extend(e for e in self._held if e[0] > start)
        self.touch()
        return page[:limit], len(page) > limit

    def _committed_last_id(self) -> int:
        return self.log.last_id - len(self._pending)

    def unlisten(self, listener_id: int) -> None:
        if self.listeners.pop(listener_id, None) is not None:
            self.touch()

    # -- runs -------------------------------------------------------------------------

    def new_run_id(self) -> str:
        return uuid.uuid4().hex[:12]

    async def stop_run(self) -> None:
        task = self.run_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def checkpoint(self, *, force: bool) -> None:
        if force:
            await self.stop_run()  # an idle session has no run: only a forced unload stops one
        await self.commit()

    def close(self) -> None:
        self.doc.unobserve(self._subscription)

    # -- realtime: editors watch the document the engine writes ---------------------------

    def subscribe(self, peer: Peer, max_streams: int) -> str | None:
        if peer not in self.fanout:
            TooManyStreams.check(self.id, len(self.fanout), max_streams)
        self.fanout.add(peer)
        return self.record.user_id  # only its owner's connections may open the document

    def frames(self, peer: Peer, items: Sequence[Inbound], now: float) -> bool:
        if peer not in self.fanout:
            return False
        self.touch()
        # The engine writes its document; editors watch it (their edits are refused).
        batch = [(conn, kind, payload, False) for conn, kind, payload, _ in items]
        outcome = process_frames(self.core, self.awareness, batch, now=now, now_iso=utc_now_iso())
        self.fanout.to_peer(peer, [Delivery(Scope.TO_CONN, k, p, c) for c, k, p in outcome.direct])
        self.fanout.to_all([Delivery(s, k, p, c) for s, k, p, c in outcome.broadcast], origin=peer)
        return True

    def peer_closed(self, peer_id: int) -> None:
        self.fanout.drop(peer_id)
        self.unlisten(peer_id)
        self.touch()

    def tick(self, now: float) -> None:
        removed = self.awareness.expire(now=now)
        if removed is not None:
            self.broadcast_awareness(removed)
        self.awareness.forget_removed(now=now)

    def mark_deleted(self) -> None:
        self.deleted = True
        if self.run_task is not None:
            self.run_task.cancel()
        self._fail_waiters(RuntimeError("session deleted"))


def _terminal(data: bytes) -> bool:
    kind = orjson.loads(data).get("type")
    return isinstance(kind, str) and kind in {t.value for t in TERMINAL_TYPES}
