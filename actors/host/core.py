"""HostCore: many live sessions in one process, whatever carries their traffic.

It loads sessions on first use (concurrent first uses share one load), validates,
delegates to the pure core and each session's ``LiveSession``, and returns plain data.
Idle sessions checkpoint and unload. The same object serves a Ray host actor (frames over
links) and the in-process session client (gateway tests without a cluster).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from storage.records import SessionRecord, utc_now_iso

from ..bridge.webhooks import WebhookDeliverer
from ..core.awareness import agent_client_id
from ..core.errors import ValidationError
from ..core.events import Delivery, StreamEnd
from ..core.session import Session
from ..core.sync import Inbound, Scope, process_frames
from ..core.theme import ThemeParams
from ..engine.live import EngineListener, EngineLive, WireEvent
from ..engine.service import EngineService, session_json
from ..errors import SessionMoved, SessionNotFound, SessionUnavailable, TooManyStreams
from ..protocol.lib0 import write_var_uint
from ..protocol.messages import MessageType
from ..settings import ActorSettings
from ..singleflight import SingleFlight
from ..store.client import StoreClient
from ..workspace.service import RunListener, WorkspaceLive, WorkspaceService
from ..workspace.service import session_json as workspace_json
from .bridge import BridgeAgents
from .fanout import Peer
from .live import LiveSession

__all__ = ["HostCore", "Live"]

# A live session of either API: a Bridge document or a design-engine session.
Live = LiveSession | EngineLive | WorkspaceLive

log = logging.getLogger(__name__)

_ACK_APPLIED = write_var_uint(1)


class HostCore:
    def __init__(
        self,
        settings: ActorSettings,
        store: StoreClient,
        *,
        engine: EngineService,
        workspace: WorkspaceService,
        claim: Callable[[str], Awaitable[bool]] | None = None,
        release: Callable[[str], Awaitable[None]] | None = None,
        webhooks: WebhookDeliverer | None = None,
    ) -> None:
        self._settings = settings
        self._webhooks = webhooks
        self._bridge = BridgeAgents(settings, store, webhooks)
        self._store = store
        self._engine = engine
        self._workspace = workspace
        # The cluster's directory: a session is live in one host only. Activation
        # claims it; unloading releases it (awaited, so the two never cross).
        self._claim = claim
        self._release = release
        self._unloading: dict[str, asyncio.Future[None]] = {}
        self._sessions: dict[str, Live] = {}
        self._loading: SingleFlight[str, Live] = SingleFlight()
        self._subscriptions: dict[int, set[str]] = {}  # peer (one stream) id -> its session ids
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [
                loop.create_task(self._reap(), name="reaper"),
                loop.create_task(self._tick(), name="presence-ticker"),
            ]
            if self._webhooks is not None:
                self._webhooks.start()

    async def stop(self) -> None:
        """Checkpoint every live session (best effort) and stop the loops."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for session_id, live in list(self._sessions.items()):
            await self._unload(session_id, live, force=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._bridge.stop()
        if self._webhooks is not None:
            await self._webhooks.stop()

    @property
    def load(self) -> int:
        return len(self._sessions) + len(self._loading)

    @property
    def session_ids(self) -> list[str]:
        return list(self._sessions)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _live(self, session_id: str) -> Live:
        live = self._sessions.get(session_id)
        if live is not None:
            live.touch()
            return live
        return await self._loading.run(session_id, lambda: self._activate(session_id))

    async def _session(self, session_id: str) -> LiveSession:
        """A Bridge session (a design session's id is not one)."""
        live = await self._live(session_id)
        if not isinstance(live, LiveSession):
            raise SessionNotFound(session_id)
        return live

    async def _design(self, session_id: str, user: str) -> EngineLive:
        """A design session the caller owns (404 for any other id, 403 for another's)."""
        live = await self._live(session_id)
        if not isinstance(live, EngineLive):
            raise SessionNotFound(session_id)
        self._engine.check_owner(live, user)
        return live

    async def _work(self, session_id: str, user: str) -> WorkspaceLive:
        """A workspace session the caller owns (404 for any other id, 403 for another's)."""
        live = await self._live(session_id)
        if not isinstance(live, WorkspaceLive):
            raise SessionNotFound(session_id)
        self._workspace.check_owner(live, user)
        return live

    async def _activate(self, session_id: str) -> Live:
        unloading = self._unloading.get(session_id)
        if unloading is not None:
            await asyncio.shield(unloading)
        if self._claim is not None and not await self._claim(session_id):
            raise SessionMoved(session_id)
        try:
            loaded = await self._store.load(session_id)
            design = None if loaded is not None else await self._engine.load(session_id)
            work = (
                None if loaded is not None or design is not None else await self._workspace.load(session_id)
            )
        except BaseException:
            await self._released(session_id)
            raise
        live: Live
        if loaded is not None:
            live = LiveSession(Session.restore(loaded), self._store, self._settings)
            log.info(
                "session activated session=%s log_rows=%d snapshot=%s",
                session_id,
                len(loaded.updates),
                loaded.snapshot is not None,
            )
        elif design is not None:
            live = design
            log.info("design session activated session=%s stage=%s", session_id, design.stage.value)
        elif work is not None:
            live = work
            log.info("workspace session activated session=%s", session_id)
        else:
            await self._released(session_id)
            raise SessionNotFound(session_id)
        self._sessions[session_id] = live
        return live

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self._settings.idle_check_interval)
            for session_id, live in list(self._sessions.items()):
                if self._idle(live):
                    await self._unload(session_id, live)

    def _idle(self, live: Live) -> bool:
        if isinstance(live, WorkspaceLive):
            return live.is_idle(self._settings.idle_timeout)
        if isinstance(live, EngineLive):
            return live.is_idle(self._settings.idle_timeout)
        return live.is_idle()

    async def _unload(self, session_id: str, live: Live, *, force: bool = False) -> None:
        try:
            if isinstance(live, WorkspaceLive):
                if live.run_task is not None and not live.run_task.done():
                    live.run_task.cancel()  # only when forced: an idle session has no run
            elif isinstance(live, EngineLive):
                await live.stop_run()  # only when forced: an idle session has no run
                await live.commit()
            else:
                await live.checkpoint()
        except Exception:  # the log is complete without the snapshot; unload anyway
            log.exception("checkpoint before unload failed session=%s", session_id)
        if not force and not self._idle(live):
            return  # a call came in while we checkpointed
        if self._sessions.get(session_id) is not live:
            return
        del self._sessions[session_id]
        if not isinstance(live, WorkspaceLive):
            live.close()
        log.info("session unloaded session=%s", session_id)
        await self._released(session_id)

    async def _released(self, session_id: str) -> None:
        if self._release is None:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unloading[session_id] = done
        try:
            await self._release(session_id)
        except Exception as exc:  # the directory re-learns ownership from the next claim
            log.warning("release failed session=%s: %s", session_id, exc)
        finally:
            del self._unloading[session_id]
            done.set_result(None)

    async def _tick(self) -> None:
        """Expire presence and awareness states that were not renewed."""
        interval = max(0.05, min(1.0, self._settings.presence_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for live in list(self._sessions.values()):
                if isinstance(live, WorkspaceLive):
                    continue
                if isinstance(live, LiveSession):
                    live.presence.expire(now)
                    self._bridge.tick(live)
                removed = live.awareness.expire(now=now)
                if removed is not None:
                    live.broadcast_awareness(removed)
                live.awareness.forget_removed(now=now)
                if isinstance(live, LiveSession) and self._bridge.webhooks_enabled:
                    self._bridge.presence(live, self._presence_json(live, now))

    # -- REST -------------------------------------------------------------------------

    async def create(self, record: SessionRecord, spec: dict[str, Any], theme: ThemeParams) -> dict[str, Any]:
        """Create a session from a validated spec and theme (the gateway validated them)."""
        if self._claim is not None and not await self._claim(record.id):
            raise SessionMoved(record.id)
        core, initial = Session.create(record, spec, theme)
        await self._store.create_session(record, initial)
        self._sessions[record.id] = LiveSession(core, self._store, self._settings)
        self._bridge.created(dict(record.to_json()))
        return dict(record.to_json())

    async def state(self, session_id: str) -> dict[str, Any]:
        live = await self._session(session_id)
        return live.core.state()

    async def apply_ops(
        self,
        session_id: str,
        ops: list[object],
        agent_id: str | None = None,
        expected_revision: int | None = None,
        version_before: str | None = None,
    ) -> dict[str, Any]:
        """Apply an agent's ops as one change, named by ``changeId`` (undoable).

        ``expected_revision``: refused (Conflict, nothing applied) when the session moved on.
        ``version_before``: an automatic version of the state before, with this label.
        """
        live = await self._session(session_id)
        if live.backlogged:
            raise SessionUnavailable("the store is behind on this session's changes; retry")
        if len(ops) > self._settings.max_ops_per_request:
            raise ValidationError("ops", f"at most {self._settings.max_ops_per_request} ops per request")
        # From the revision check to the change, nothing awaits: no other change can slip in.
        self._bridge.check_revision(live, expected_revision)
        author = f"agent:{agent_id}" if agent_id else "api"
        before, version = self._bridge.capture_before_ops(live, version_before, author)
        result, change = live.core.apply_ops(
            ops, now_iso=utc_now_iso(), max_css_bytes=self._settings.max_theme_css_bytes, author=author
        )
        change_id: str | None = None
        if change is not None:
            change_id = self._bridge.ops_applied(live, change, before)
            # Connected editors see the agent's change at once; the caller after commit.
            if change.update is not None:
                live.broadcast_update(change.update)
            saving = [self._bridge.save(live, *version)] if version is not None else []
            await asyncio.gather(live.commit(change), *saving)
            revision = change.append.revision
        else:
            if version is not None:
                await self._bridge.save(live, *version)
            revision = live.core.revision
        answer = {
            "revision": revision,
            "applied": result.applied,
            "errors": result.errors,
            "changeId": change_id,
        }
        if version is not None:
            answer["versionId"] = version[0].id
        return answer

    # -- versions, restore, undo ----------------------------------------------------------

    async def list_versions(self, session_id: str) -> list[dict[str, Any]]:
        return await self._bridge.list_versions(await self._session(session_id))

    async def create_version(self, session_id: str, label: str, agent_id: str | None) -> dict[str, Any]:
        return await self._bridge.create_version(await self._session(session_id), label, agent_id)

    async def version_state(self, session_id: str, version_id: str) -> dict[str, Any]:
        return await self._bridge.version_state(await self._session(session_id), version_id)

    async def diff_versions(self, session_id: str, a: str, b: str) -> dict[str, Any]:
        return await self._bridge.diff(await self._session(session_id), a, b)

    async def restore_version(self, session_id: str, version_id: str, agent_id: str | None) -> dict[str, Any]:
        live = await self._session(session_id)
        if live.backlogged:
            raise SessionUnavailable("the store is behind on this session's changes; retry")
        return await self._bridge.restore(live, version_id, agent_id)

    async def undo_change(self, session_id: str, change_id: str, agent_id: str | None) -> dict[str, Any]:
        live = await self._session(session_id)
        if live.backlogged:
            raise SessionUnavailable("the store is behind on this session's changes; retry")
        return await self._bridge.undo(live, change_id, agent_id)

    def webhook_stats(self) -> dict[str, int]:
        return self._webhooks.stats() if self._webhooks is not None else {}

    def _presence_json(self, live: LiveSession, now: float) -> dict[str, Any]:
        """REST agents plus every awareness state (keyed by agentId, else by client id)."""
        merged: dict[str, Any] = {}
        agent_ids = {agent_client_id(e.agent_id) for e in live.presence.entries(now)}
        for client_id, state in live.awareness.states().items():
            if client_id in agent_ids:
                continue
            agent = state.get("agentId")
            key = agent if isinstance(agent, str) and agent else f"client:{client_id}"
            merged[key] = {**state, "clientId": client_id}
        merged.update(live.presence.to_json(now))
        return merged

    async def set_presence(
        self,
        session_id: str,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
    ) -> dict[str, Any]:
        live = await self._session(session_id)
        now = time.monotonic()
        entry = live.presence.upsert(agent_id, name, cursor, status, now_iso=utc_now_iso(), now=now)
        # Browsers see REST agents through awareness, under a stable synthetic client id.
        live.broadcast_awareness(
            live.awareness.set_state(agent_client_id(agent_id), entry.to_json(), now=now)
        )
        presence = self._presence_json(live, now)
        self._bridge.presence(live, presence)
        return presence

    async def get_presence(self, session_id: str) -> dict[str, Any]:
        live = await self._session(session_id)
        return self._presence_json(live, time.monotonic())

    async def delete(self, session_id: str) -> bool:
        if isinstance(self._sessions.get(session_id), (EngineLive, WorkspaceLive)):
            raise SessionNotFound(session_id)  # only Bridge sessions are deleted here
        live = self._sessions.pop(session_id, None)
        if live is not None and isinstance(live, LiveSession):
            live.mark_deleted()
            live.close()
        deleted = await self._store.delete_session(session_id)
        if deleted:
            self._bridge.deleted(session_id, live if isinstance(live, LiveSession) else None)
        if live is not None:
            await self._released(session_id)
        return deleted

    # -- realtime ---------------------------------------------------------------------

    async def subscribe(self, session_id: str, peer: Peer) -> str | None:
        """Activate the session if needed and register ``peer`` for its events.

        Returns the owner of a design session (whose document only its owner may open;
        the gateway checks each connection), None for a Bridge session.
        """
        live = await self._live(session_id)
        if isinstance(live, WorkspaceLive):
            raise SessionNotFound(session_id)  # a workspace session has no document
        if peer not in live.fanout:
            TooManyStreams.check(session_id, len(live.fanout), self._settings.max_streams_per_session)
        live.fanout.add(peer)
        self._opened(peer.peer_id, session_id)
        return live.record.user_id if isinstance(live, EngineLive) else None

    def _opened(self, peer_id: int, session_id: str) -> None:
        self._subscriptions.setdefault(peer_id, set()).add(session_id)

    def peer_closed(self, peer_id: int) -> None:
        """The stream ``peer_id`` is gone: its session stops sending to it (and may idle out)."""
        for session_id in self._subscriptions.pop(peer_id, set()):
            live = self._sessions.get(session_id)
            if live is None:
                continue
            if not isinstance(live, WorkspaceLive):
                live.fanout.drop(peer_id)
            if isinstance(live, (EngineLive, WorkspaceLive)):
                live.unlisten(peer_id)
            live.touch()

    def frames(self, session_id: str, peer: Peer, items: Sequence[Inbound]) -> None:
        """Apply a gateway's batch of frames; replies and acks go back to ``peer``.

        Returns at once after applying: acknowledgements follow when the batch's changes
        are committed, so the next batch need not wait for the store.
        """
        live = self._sessions.get(session_id)
        if live is None or isinstance(live, WorkspaceLive) or peer not in live.fanout:
            # Unloaded, deleted or never subscribed: the gateway must resubscribe.
            peer.end(session_id, StreamEnd.RESTART)
            return
        now = time.monotonic()
        live.touch()
        batch = list(items)
        if isinstance(live, EngineLive):
            # The engine writes its document; editors watch it (their edits are refused).
            batch = [(conn, kind, payload, False) for conn, kind, payload, _ in batch]
            outcome = process_frames(live.core, live.awareness, batch, now=now, now_iso=utc_now_iso())  # type: ignore[arg-type]
            live.fanout.to_peer(peer, [Delivery(Scope.TO_CONN, k, p, c) for c, k, p in outcome.direct])
            live.fanout.to_all([Delivery(s, k, p, c) for s, k, p, c in outcome.broadcast], origin=peer)
            return
        if live.backlogged:
            # Refused edits stay unsynced in their clients, which resend them later.
            batch = [(conn, kind, payload, False) for conn, kind, payload, _ in batch]
        outcome = process_frames(live.core, live.awareness, batch, now=now, now_iso=utc_now_iso())
        live.fanout.to_peer(
            peer, [Delivery(Scope.TO_CONN, kind, payload, conn) for conn, kind, payload in outcome.direct]
        )
        live.fanout.to_all(
            [Delivery(scope, kind, payload, conn) for scope, kind, payload, conn in outcome.broadcast],
            origin=peer,
        )
        if outcome.changes:
            self._bridge.changes(live, outcome.changes)
        if self._bridge.webhooks_enabled and any(b[1] == MessageType.AWARENESS for b in outcome.broadcast):
            self._bridge.presence(live, self._presence_json(live, now))
        if outcome.changes:
            # The log is ordered: the batch's last row committed means all did.
            committed = live.record_all(outcome.changes)
            if outcome.acks:
                committed.add_done_callback(partial(self._ack_committed, live, peer, outcome.acks))
        elif outcome.acks:
            self._ack(live, peer, outcome.acks)

    @staticmethod
    def _ack(live: LiveSession, peer: Peer, conns: list[int]) -> None:
        live.fanout.to_peer(
            peer, [Delivery(Scope.TO_CONN, MessageType.SYNC_STATUS, _ACK_APPLIED, c) for c in conns]
        )

    @classmethod
    def _ack_committed(
        cls, live: LiveSession, peer: Peer, conns: list[int], last: asyncio.Future[None]
    ) -> None:
        """Acknowledge once the batch's last row is committed (a callback, not a task per batch)."""
        if last.cancelled():
            return
        exc = last.exception()
        if exc is not None:  # deleted meanwhile: nothing to acknowledge
            log.info("acks dropped session=%s: %s", live.id, exc)
            return
        cls._ack(live, peer, conns)

    async def ping(self, session_id: str) -> int:
        """Activate the session (of either kind) here; returns this process's id."""
        await self._live(session_id)
        return os.getpid()

    # -- design engine ----------------------------------------------------------------

    async def create_design(self, session_id: str, user: str, body: object) -> dict[str, Any]:
        record = await self._engine.prepare(session_id, user, body)
        if self._claim is not None and not await self._claim(record.id):
            raise SessionMoved(record.id)
        live = await self._engine.create(record)
        self._sessions[record.id] = live
        view = session_json(live.record)
        return {
            k: view[k] for k in ("id", "title", "stage", "status", "workspaceUrl", "createdAt", "updatedAt")
        }

    async def get_design(self, user: str, session_id: str) -> dict[str, Any]:
        return session_json((await self._design(session_id, user)).record)

    async def patch_design(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return await self._engine.patch(await self._design(session_id, user), body)

    async def act_design(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return await self._engine.act(await self._design(session_id, user), body)

    async def listen_design(
        self, user: str, session_id: str, listener: EngineListener, after_id: int | None
    ) -> tuple[list[WireEvent], str | None]:
        live = await self._design(session_id, user)
        replay, run = await self._engine.listen(
            live, listener, after_id, max_listeners=self._settings.max_streams_per_session
        )
        self._opened(listener.peer_id, session_id)
        return replay, run

    async def preview_materialization(self, user: str, session_id: str) -> dict[str, Any]:
        return await self._engine.preview(await self._design(session_id, user))

    async def design_file(self, user: str, session_id: str, name: str) -> list[Any] | None:
        found = await self._engine.read_file(await self._design(session_id, user), name)
        return None if found is None else [found[0], found[1]]

    async def materialize(self, user: str, session_id: str) -> dict[str, Any]:
        return await self._engine.materialize(await self._design(session_id, user))

    # -- workspace ----------------------------------------------------------------------

    async def create_work(self, session_id: str, user: str, project_id: str, body: object) -> dict[str, Any]:
        if self._claim is not None and not await self._claim(session_id):
            raise SessionMoved(session_id)
        live = await self._workspace.create(session_id, user, project_id, body)
        self._sessions[session_id] = live
        return workspace_json(live.record)

    async def get_work(self, user: str, session_id: str) -> dict[str, Any]:
        return workspace_json((await self._work(session_id, user)).record)

    async def work_status(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return await self._workspace.set_status(await self._work(session_id, user), body)

    async def work_title(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return await self._workspace.set_title(await self._work(session_id, user), body)

    async def delete_work(self, user: str, session_id: str) -> None:
        live = await self._work(session_id, user)
        await self._workspace.delete(live)
        if self._sessions.pop(session_id, None) is not None:
            await self._released(session_id)

    async def work_history(self, user: str, session_id: str, raw_limit: str | None) -> list[dict[str, Any]]:
        return await self._workspace.history(await self._work(session_id, user), raw_limit)

    async def start_work_run(self, user: str, session_id: str, body: object) -> str:
        return await self._workspace.start_run(await self._work(session_id, user), user, body)

    async def wait_work_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return await self._workspace.wait(await self._work(session_id, user), run_id)

    async def listen_work_run(
        self, user: str, session_id: str, listener: RunListener, run_id: str
    ) -> list[Any]:
        live = await self._work(session_id, user)
        replay = live.listen(listener, run_id, max_listeners=self._settings.max_streams_per_session)
        self._opened(listener.peer_id, session_id)
        return replay

    async def get_work_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return await self._workspace.get_run(await self._work(session_id, user), run_id)

    async def cancel_work_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return await self._workspace.cancel(await self._work(session_id, user), run_id)

    def stats(self) -> dict[str, Any]:
        """Counts for operators: live sessions and runs in flight by API (see ``/metrics``)."""
        bridge = [live for live in self._sessions.values() if isinstance(live, LiveSession)]
        design = [live for live in self._sessions.values() if isinstance(live, EngineLive)]
        work = [live for live in self._sessions.values() if isinstance(live, WorkspaceLive)]
        return {
            "sessions": len(self._sessions),
            "unflushed": sum(live.unflushed for live in bridge),
            "streams": len(self._subscriptions),
            "webhooks": self.webhook_stats(),
            "live": {"bridge": len(bridge), "design": len(design), "workspace": len(work)},
            "runs": {
                "design": sum(1 for d in design if d.run_task is not None and not d.run_task.done()),
                "workspace": sum(1 for w in work if w.run_task is not None and not w.run_task.done()),
            },
        }
