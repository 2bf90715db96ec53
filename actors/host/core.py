"""HostCore: many live sessions in one process, whatever carries their traffic.

It loads sessions on first use (concurrent first uses share one load) and hands each
call to its API's service (``BridgeService``, ``EngineService``, ``WorkspaceService``).
Lifecycle (activation, claims, idle, unload, ticks, frames) goes through one
``LiveSession`` interface (``actors/core/live.py``), whatever the session's API. The same
object serves a Ray host actor (frames over links) and the in-process session client
(gateway tests without a cluster).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from ..bridge import ops as bridge_ops
from ..bridge.live import BridgeLive
from ..bridge.service import BridgeService
from ..bridge.webhooks import WebhookDeliverer
from ..core.events import StreamEnd
from ..core.fanout import Peer
from ..core.live import LiveSession, Room
from ..core.ops import Ping, Subscribe
from ..core.sync import Inbound
from ..engine import ops as engine_ops
from ..engine.live import EngineListener, EngineLive, WireEvent
from ..engine.service import EngineService, session_json
from ..errors import SessionMoved, SessionNotFound
from ..settings import ActorSettings
from ..singleflight import SingleFlight
from ..store.client import StoreClient
from ..workspace import ops as work_ops
from ..workspace.answers import WorkspaceSession
from ..workspace.service import RunListener, WorkspaceLive, WorkspaceService

__all__ = ["HostCore"]

log = logging.getLogger(__name__)

L = TypeVar("L", bound=LiveSession)


def _of_kind(session_id: str, live: LiveSession, kind: type[L]) -> L:
    """``live`` as one API's session type; an id of another API's session is not found."""
    if not isinstance(live, kind):
        raise SessionNotFound(session_id)
    return live


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
        self._bridge = BridgeService(settings, store, webhooks)
        self._engine = engine
        self._workspace = workspace
        # Where a session id is looked up on activation, in this order.
        self._rooms: tuple[Room, ...] = (self._bridge, engine, workspace)
        # The cluster's directory: a session is live in one host only. Activation
        # claims it; unloading releases it (awaited, so the two never cross).
        self._claim = claim
        self._release = release
        self._unloading: dict[str, asyncio.Future[None]] = {}
        self._sessions: dict[str, LiveSession] = {}
        self._loading: SingleFlight[str, LiveSession] = SingleFlight()
        self._subscriptions: dict[int, set[str]] = {}  # peer (one stream) id -> its session ids
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
        await self._bridge.stop()
        if self._webhooks is not None:
            await self._webhooks.stop()

    @property
    def load(self) -> int:
        return len(self._sessions) + len(self._loading)

    @property
    def session_ids(self) -> list[str]:
        return list(self._sessions)

    async def _live(self, session_id: str) -> LiveSession:
        live = self._sessions.get(session_id)
        if live is not None:
            live.touch()
            return live
        return await self._loading.run(session_id, lambda: self._activate(session_id))

    async def _get(self, session_id: str, kind: type[L]) -> L:
        """The live session of one API, activated if need be (404 for another API's id)."""
        return _of_kind(session_id, await self._live(session_id), kind)

    async def _design(self, session_id: str, user: str) -> EngineLive:
        """A design session the caller owns (404 for any other id, 403 for another's)."""
        live = await self._get(session_id, EngineLive)
        self._engine.check_owner(live, user)
        return live

    async def _work(self, session_id: str, user: str) -> WorkspaceLive:
        """A workspace session the caller owns (404 for any other id, 403 for another's)."""
        live = await self._get(session_id, WorkspaceLive)
        self._workspace.check_owner(live, user)
        return live

    async def _activate(self, session_id: str) -> LiveSession:
        unloading = self._unloading.get(session_id)
        if unloading is not None:
            await asyncio.shield(unloading)
        if self._claim is not None and not await self._claim(session_id):
            raise SessionMoved(session_id)
        found: LiveSession | None = None
        try:
            for room in self._rooms:
                found = await room.load(session_id)
                if found is not None:
                    break
        except BaseException:
            await self._released(session_id)
            raise
        if found is None:
            await self._released(session_id)
            raise SessionNotFound(session_id)
        log.info("session live session=%s kind=%s", session_id, found.kind)
        self._sessions[session_id] = found
        return found

    async def _adopt(self, session_id: str, make: Callable[[], Awaitable[L]]) -> L:
        """A session created here: claimed first, then held live."""
        if self._claim is not None and not await self._claim(session_id):
            raise SessionMoved(session_id)
        live = await make()
        self._sessions[session_id] = live
        return live

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self._settings.idle_check_interval)
            for session_id, live in list(self._sessions.items()):
                if live.is_idle(self._settings.idle_timeout):
                    await self._unload(session_id, live)

    async def _unload(self, session_id: str, live: LiveSession, *, force: bool = False) -> None:
        try:
            await live.checkpoint(force=force)
        except Exception:  # the log is complete without the snapshot; unload anyway
            log.exception("checkpoint before unload failed session=%s", session_id)
        if not force and not live.is_idle(self._settings.idle_timeout):
            return  # a call came in while we checkpointed
        if self._sessions.get(session_id) is not live:
            return
        del self._sessions[session_id]
        live.close()
        log.info("session unloaded session=%s kind=%s", session_id, live.kind)
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
                live.tick(now)

    # -- Bridge -----------------------------------------------------------------------

    async def create(self, op: bridge_ops.CreateSession) -> dict[str, Any]:
        """Create a session from a validated spec and theme (the gateway validated them)."""
        record = op.record
        await self._adopt(record.id, lambda: self._bridge.create(record, op.spec, op.theme))
        return dict(record.to_json())

    async def state(self, op: bridge_ops.GetState) -> dict[str, Any]:
        return self._bridge.state(await self._get(op.session_id, BridgeLive))

    async def apply_ops(self, op: bridge_ops.ApplyOps) -> dict[str, Any]:
        live = await self._get(op.session_id, BridgeLive)
        return await self._bridge.apply_ops(
            live, op.ops, op.agent_id, op.expected_revision, op.version_before
        )

    async def list_versions(self, op: bridge_ops.ListVersions) -> list[dict[str, Any]]:
        return await self._bridge.list_versions(await self._get(op.session_id, BridgeLive))

    async def create_version(self, op: bridge_ops.CreateVersion) -> dict[str, Any]:
        live = await self._get(op.session_id, BridgeLive)
        return await self._bridge.create_version(live, op.label, op.agent_id)

    async def version_state(self, op: bridge_ops.VersionState) -> dict[str, Any]:
        return await self._bridge.version_state(await self._get(op.session_id, BridgeLive), op.version_id)

    async def diff_versions(self, op: bridge_ops.DiffVersions) -> dict[str, Any]:
        return await self._bridge.diff_versions(await self._get(op.session_id, BridgeLive), op.a, op.b)

    async def restore_version(self, op: bridge_ops.RestoreVersion) -> dict[str, Any]:
        live = await self._get(op.session_id, BridgeLive)
        return await self._bridge.restore_version(live, op.version_id, op.agent_id)

    async def undo_change(self, op: bridge_ops.UndoChange) -> dict[str, Any]:
        live = await self._get(op.session_id, BridgeLive)
        return await self._bridge.undo_change(live, op.change_id, op.agent_id)

    def webhook_stats(self) -> dict[str, int]:
        return self._webhooks.stats() if self._webhooks is not None else {}

    async def set_presence(self, op: bridge_ops.SetPresence) -> dict[str, Any]:
        live = await self._get(op.session_id, BridgeLive)
        return self._bridge.set_presence(live, op.agent_id, op.name, op.cursor, op.status)

    async def get_presence(self, op: bridge_ops.GetPresence) -> dict[str, Any]:
        return self._bridge.get_presence(await self._get(op.session_id, BridgeLive))

    async def delete(self, op: bridge_ops.DeleteSession) -> bool:
        session_id = op.session_id
        held = self._sessions.get(session_id)
        # Only Bridge sessions are deleted here (404 for another API's id).
        live = None if held is None else _of_kind(session_id, held, BridgeLive)
        self._sessions.pop(session_id, None)
        deleted = await self._bridge.delete(session_id, live)
        if live is not None:
            await self._released(session_id)
        return deleted

    # -- realtime ---------------------------------------------------------------------

    async def subscribe(self, op: Subscribe, peer: Peer) -> str | None:
        """Activate the session if needed and register ``peer`` for its events.

        Returns the owner of a design session (whose document only its owner may open;
        the gateway checks each connection), None for a Bridge session.
        """
        live = await self._live(op.session_id)
        owner = live.subscribe(peer, self._settings.max_streams_per_session)
        self._opened(peer.peer_id, op.session_id)
        return owner

    def _opened(self, peer_id: int, session_id: str) -> None:
        self._subscriptions.setdefault(peer_id, set()).add(session_id)

    def peer_closed(self, peer_id: int) -> None:
        """The stream ``peer_id`` is gone: its session stops sending to it (and may idle out)."""
        for session_id in self._subscriptions.pop(peer_id, set()):
            live = self._sessions.get(session_id)
            if live is not None:
                live.peer_closed(peer_id)

    def frames(self, session_id: str, peer: Peer, items: Sequence[Inbound]) -> None:
        """Apply a gateway's batch of frames; replies and acks go back to ``peer``."""
        live = self._sessions.get(session_id)
        if live is None or not live.frames(peer, items, time.monotonic()):
            # Unloaded, deleted or never subscribed: the gateway must resubscribe.
            peer.end(session_id, StreamEnd.RESTART)

    async def ping(self, op: Ping) -> int:
        """Activate the session (of any API) here; returns this process's id."""
        await self._live(op.session_id)
        return os.getpid()

    # -- design engine ----------------------------------------------------------------

    async def create_design(self, op: engine_ops.CreateDesign) -> dict[str, Any]:
        record = await self._engine.prepare(op.session_id, op.user, op.body)
        live = await self._adopt(record.id, lambda: self._engine.create(record))
        view = session_json(live.record)
        return {
            k: view[k] for k in ("id", "title", "stage", "status", "workspaceUrl", "createdAt", "updatedAt")
        }

    async def get_design(self, op: engine_ops.GetDesign) -> dict[str, Any]:
        return session_json((await self._design(op.session_id, op.user)).record)

    async def patch_design(self, op: engine_ops.PatchDesign) -> dict[str, Any]:
        return await self._engine.patch(await self._design(op.session_id, op.user), op.body)

    async def act_design(self, op: engine_ops.ActDesign) -> dict[str, Any]:
        return await self._engine.act(await self._design(op.session_id, op.user), op.body)

    async def listen_design(
        self, op: engine_ops.ListenDesign, listener: EngineListener
    ) -> tuple[list[WireEvent], str | None]:
        live = await self._design(op.session_id, op.user)
        replay, run = await self._engine.listen(
            live, listener, op.after, max_listeners=self._settings.max_streams_per_session
        )
        self._opened(listener.peer_id, op.session_id)
        return replay, run

    async def list_events(self, op: engine_ops.ListEvents) -> list[Any]:
        live = await self._design(op.session_id, op.user)
        events, more, run = await self._engine.events(live, op.after, op.limit)
        return [events, more, run]

    async def preview_materialization(self, op: engine_ops.PreviewMaterialization) -> dict[str, Any]:
        return await self._engine.preview(await self._design(op.session_id, op.user))

    async def design_file(self, op: engine_ops.DesignFile) -> list[Any] | None:
        found = await self._engine.read_file(await self._design(op.session_id, op.user), op.name)
        return None if found is None else [found[0], found[1]]

    async def materialize(self, op: engine_ops.Materialize) -> dict[str, Any]:
        return await self._engine.materialize(await self._design(op.session_id, op.user))

    # -- workspace ----------------------------------------------------------------------

    async def create_work(self, op: work_ops.CreateWork) -> WorkspaceSession:
        live = await self._adopt(
            op.session_id, lambda: self._workspace.create(op.session_id, op.user, op.project_id, op.body)
        )
        return WorkspaceSession.of(live.record)

    async def get_work(self, op: work_ops.GetWork) -> WorkspaceSession:
        return WorkspaceSession.of((await self._work(op.session_id, op.user)).record)

    async def work_status(self, op: work_ops.SetWorkStatus) -> WorkspaceSession:
        return await self._workspace.set_status(await self._work(op.session_id, op.user), op.body)

    async def work_title(self, op: work_ops.SetWorkTitle) -> WorkspaceSession:
        return await self._workspace.set_title(await self._work(op.session_id, op.user), op.body)

    async def delete_work(self, op: work_ops.DeleteWork) -> None:
        live = await self._work(op.session_id, op.user)
        await self._workspace.delete(live)
        if self._sessions.pop(op.session_id, None) is not None:
            await self._released(op.session_id)

    async def work_history(self, op: work_ops.WorkHistory) -> list[dict[str, Any]]:
        return await self._workspace.history(await self._work(op.session_id, op.user), op.limit)

    async def start_work_run(self, op: work_ops.StartRun) -> str:
        return await self._workspace.start_run(await self._work(op.session_id, op.user), op.user, op.body)

    async def wait_work_run(self, op: work_ops.WaitRun) -> dict[str, Any]:
        return await self._workspace.wait(await self._work(op.session_id, op.user), op.run_id)

    async def listen_work_run(self, op: work_ops.ListenRun, listener: RunListener) -> list[Any]:
        live = await self._work(op.session_id, op.user)
        replay = live.listen(listener, op.run_id, max_listeners=self._settings.max_streams_per_session)
        self._opened(listener.peer_id, op.session_id)
        return replay

    async def get_work_run(self, op: work_ops.GetRun) -> dict[str, Any]:
        return await self._workspace.get_run(await self._work(op.session_id, op.user), op.run_id)

    async def cancel_work_run(self, op: work_ops.CancelRun) -> dict[str, Any]:
        return await self._workspace.cancel(await self._work(op.session_id, op.user), op.run_id)

    def stats(self) -> dict[str, Any]:
        """Counts for operators: live sessions and runs in flight by API (see ``/metrics``)."""
        live = list(self._sessions.values())
        kinds = Counter(s.kind for s in live)
        runs = Counter(s.kind for s in live if s.running)
        return {
            "sessions": len(self._sessions),
            "unflushed": sum(s.unflushed for s in live),
            "streams": len(self._subscriptions),
            "webhooks": self.webhook_stats(),
            "live": {kind: kinds[kind] for kind in ("bridge", "design", "workspace")},
            "runs": {kind: runs[kind] for kind in ("design", "workspace")},
        }
