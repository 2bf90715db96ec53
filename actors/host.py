"""SessionHost: the Ray actor that hosts live sessions (one, or many by hashing).

A thin shell: it loads sessions on first use (concurrent first uses share one load),
validates, delegates to the pure core and the LiveSession, and returns plain data.
Idle sessions checkpoint and unload; an empty one-session host removes itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import ray

from storage.records import SessionRecord, utc_now_iso

from .core.awareness import agent_client_id
from .core.errors import ValidationError
from .core.session import Session
from .core.sync import Inbound, Scope, process_frames
from .core.theme import ThemeParams
from .errors import HostExiting, SessionNotFound, SessionUnavailable
from .fanout import Event
from .live import LiveSession
from .protocol.lib0 import write_var_uint
from .protocol.messages import MessageType
from .settings import ActorSettings
from .singleflight import SingleFlight
from .store_client import StoreClient
from .store_service import STORE_ACTOR_NAME, RayStoreClient

__all__ = ["SessionHost"]

log = logging.getLogger(__name__)

_ACK_APPLIED = write_var_uint(1)


class SessionHost:
    def __init__(self, settings: ActorSettings, store: StoreClient | None = None) -> None:
        self._settings = settings
        self._store: StoreClient = store or RayStoreClient(
            ray.get_actor(STORE_ACTOR_NAME, namespace=settings.namespace)
        )
        self._sessions: dict[str, LiveSession] = {}
        self._loading: SingleFlight[str, LiveSession] = SingleFlight()
        self._reaper: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._exiting = False  # idle, counting down the grace period; a call cancels it
        self._killing = False  # past the point of no return

    # -- lifecycle --------------------------------------------------------------------

    def _enter(self) -> None:
        if self._killing:
            raise HostExiting("host is shutting down")
        if self._exiting:
            log.info("idle exit cancelled by a new call")
            self._exiting = False
        if self._reaper is None:
            loop = asyncio.get_running_loop()
            self._reaper = loop.create_task(self._reap(), name="reaper")
            self._ticker = loop.create_task(self._tick(), name="presence-ticker")

    async def _session(self, session_id: str) -> LiveSession:
        self._enter()
        live = self._sessions.get(session_id)
        if live is not None:
            live.touch()
            return live
        return await self._loading.run(session_id, lambda: self._activate(session_id))

    async def _activate(self, session_id: str) -> LiveSession:
        loaded = await self._store.load(session_id)
        if loaded is None:
            raise SessionNotFound(session_id)
        live = LiveSession(Session.restore(loaded), self._store, self._settings)
        self._sessions[session_id] = live
        log.info(
            "session activated session=%s log_rows=%d snapshot=%s",
            session_id,
            len(loaded.updates),
            loaded.snapshot is not None,
        )
        return live

    async def _reap(self) -> None:
        interval = self._settings.idle_check_interval
        while True:
            await asyncio.sleep(interval)
            for session_id, live in list(self._sessions.items()):
                if live.is_idle():
                    await self._unload(session_id, live)
            if (
                self._settings.placement == "session"
                and not self._sessions
                and not self._loading
            ):
                await self._exit()

    async def _unload(self, session_id: str, live: LiveSession) -> None:
        try:
            await live.checkpoint()
        except Exception:  # the log is complete without the snapshot; unload anyway
            log.exception("checkpoint before unload failed session=%s", session_id)
        if not live.is_idle():
            return  # a call came in while we checkpointed
        self._sessions.pop(session_id, None)
        live.close()
        log.info("session unloaded session=%s", session_id)

    async def _tick(self) -> None:
        """Expire presence/awareness states and dead gateways' subscriptions."""
        interval = max(0.05, min(1.0, self._settings.presence_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for session_id, live in list(self._sessions.items()):
                live.presence.expire(now)
                removed = live.awareness.expire(now=now)
                if removed is not None:
                    live.broadcast_awareness(removed)
                live.awareness.forget_removed(now=now)
                for gateway_id in live.fanout.expire(now, self._settings.subscriber_lease):
                    log.info("subscription lease expired session=%s gateway=%s", session_id, gateway_id)

    async def _exit(self) -> None:
        """Leave after a grace period in which any call keeps the host alive.

        Once killing, calls are refused with HostExiting (not run, safe to retry), so a
        call that finds this actor dead afterwards was never run either.
        """
        self._exiting = True
        await asyncio.sleep(self._settings.exit_grace)
        if not self._exiting or self._sessions or self._loading:
            return
        self._killing = True
        log.info("host exiting pid=%s", os.getpid())
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    # -- API used by the gateway (through the directory) ------------------------------

    async def ping(self, session_id: str) -> int:
        """Activate the session if needed; returns the host's process id."""
        await self._session(session_id)
        return os.getpid()

    async def create(
        self, record: SessionRecord, spec: dict[str, Any], theme: ThemeParams
    ) -> dict[str, Any]:
        """Create a session from a validated spec and theme (the gateway validated them)."""
        self._enter()
        core, initial = Session.create(record, spec, theme)
        await self._store.create_session(record, initial)
        self._sessions[record.id] = LiveSession(core, self._store, self._settings)
        return record.to_json()

    async def meta(self, session_id: str) -> dict[str, Any]:
        live = await self._session(session_id)
        return live.core.record.to_json()

    async def state(self, session_id: str) -> dict[str, Any]:
        live = await self._session(session_id)
        return live.core.state()

    async def apply_ops(self, session_id: str, ops: list[object]) -> dict[str, Any]:
        live = await self._session(session_id)
        if live.backlogged:
            raise SessionUnavailable("the store is behind on this session's changes; retry")
        if len(ops) > self._settings.max_ops_per_request:
            raise ValidationError(
                "ops", f"at most {self._settings.max_ops_per_request} ops per request"
            )
        result, change = live.core.apply_ops(
            ops, now_iso=utc_now_iso(), max_css_bytes=self._settings.max_theme_css_bytes
        )
        if change is not None:
            # Connected editors see the agent's change at once; the caller after commit.
            if change.update is not None:
                live.broadcast_update(change.update)
            await live.commit(change)
            revision = change.append.revision
        else:
            revision = live.core.revision
        return {"revision": revision, "applied": result.applied, "errors": result.errors}

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
        return self._presence_json(live, now)

    async def get_presence(self, session_id: str) -> dict[str, Any]:
        live = await self._session(session_id)
        return self._presence_json(live, time.monotonic())

    # -- realtime ---------------------------------------------------------------------

    async def subscribe(self, session_id: str, gateway_id: str) -> AsyncIterator[list[Event]]:
        """The one event stream of a gateway for a session (a Ray streaming generator)."""
        live = await self._session(session_id)
        subscriber = live.fanout.subscribe(gateway_id, time.monotonic())
        try:
            async for batch in subscriber.batches(
                self._settings.stream_batch_events, self._settings.subscriber_lease / 4
            ):
                yield batch
        finally:
            live.fanout.release(subscriber)
            live.touch()

    async def unsubscribe(self, session_id: str, gateway_id: str) -> None:
        live = self._sessions.get(session_id)
        if live is not None:
            live.fanout.unsubscribe(gateway_id)

    async def keepalive(self, session_id: str, gateway_id: str) -> bool:
        live = self._sessions.get(session_id)
        return live is not None and live.fanout.renew(gateway_id, time.monotonic())

    async def handle_frames(self, session_id: str, gateway_id: str, items: list[Inbound]) -> int:
        """Apply a gateway's batch of frames; replies and acks travel on its stream.

        Returns at once after applying: acknowledgements follow on the stream when the
        batch's changes are committed, so the next batch need not wait for the store.
        """
        live = await self._session(session_id)
        now = time.monotonic()
        live.fanout.renew(gateway_id, now)
        if live.backlogged:
            # Refused edits stay unsynced in their clients, which resend them later.
            items = [(conn, kind, payload, False) for conn, kind, payload, _ in items]
        outcome = process_frames(live.core, live.awareness, items, now=now, now_iso=utc_now_iso())
        for conn, kind, payload in outcome.direct:
            live.fanout.to_gateway(gateway_id, (Scope.TO_CONN, kind, payload, conn, gateway_id))
        for scope, kind, payload, origin in outcome.broadcast:
            live.fanout.to_all((scope, kind, payload, origin, gateway_id))
        if outcome.acks:
            pending = [live.record(change) for change in outcome.changes]
            if pending:
                asyncio.get_running_loop().create_task(
                    self._ack_after_commit(live, gateway_id, pending[-1], outcome.acks)
                )
            else:
                self._ack(live, gateway_id, outcome.acks)
        return len(items)

    @staticmethod
    def _ack(live: LiveSession, gateway_id: str, conns: list[int]) -> None:
        for conn in conns:
            live.fanout.to_gateway(
                gateway_id, (Scope.TO_CONN, MessageType.SYNC_STATUS, _ACK_APPLIED, conn, gateway_id)
            )

    async def _ack_after_commit(
        self, live: LiveSession, gateway_id: str, last: asyncio.Future[None], conns: list[int]
    ) -> None:
        try:
            await last  # the log is ordered: the last row committed means all did
        except Exception as exc:  # deleted meanwhile: nothing to acknowledge
            log.info("acks dropped session=%s: %s", live.id, exc)
            return
        self._ack(live, gateway_id, conns)

    async def delete(self, session_id: str) -> bool:
        self._enter()
        live = self._sessions.pop(session_id, None)
        if live is not None:
            live.mark_deleted()
            live.close()
        return await self._store.delete_session(session_id)

    async def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "sessions": len(self._sessions),
            "unflushed": sum(live.unflushed for live in self._sessions.values()),
        }
