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
from typing import Any

import ray

from storage.records import SessionRecord, utc_now_iso

from .core.errors import ValidationError
from .core.presence import Presence
from .core.session import Session
from .core.theme import ThemeParams
from .errors import HostExiting, SessionNotFound
from .live import LiveSession
from .settings import ActorSettings
from .store_client import StoreClient
from .store_service import STORE_ACTOR_NAME, RayStoreClient

__all__ = ["SessionHost"]

log = logging.getLogger(__name__)


class SessionHost:
    def __init__(self, settings: ActorSettings, store: StoreClient | None = None) -> None:
        self._settings = settings
        self._store: StoreClient = store or RayStoreClient(
            ray.get_actor(STORE_ACTOR_NAME, namespace=settings.namespace)
        )
        self._sessions: dict[str, LiveSession] = {}
        self._presence: dict[str, Presence] = {}
        self._loading: dict[str, asyncio.Future[LiveSession]] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._exiting = False

    # -- lifecycle --------------------------------------------------------------------

    def _enter(self) -> None:
        if self._exiting:
            raise HostExiting("host is shutting down")
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap(), name="reaper")

    async def _session(self, session_id: str) -> LiveSession:
        self._enter()
        live = self._sessions.get(session_id)
        if live is not None:
            live.touch()
            return live
        pending = self._loading.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[LiveSession] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = fut
        try:
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
            fut.set_result(live)
            return live
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: waiters, if any, re-raise it themselves
            raise
        finally:
            del self._loading[session_id]

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
                return

    async def _unload(self, session_id: str, live: LiveSession) -> None:
        try:
            await live.checkpoint()
        except Exception:  # the log is complete without the snapshot; unload anyway
            log.exception("checkpoint before unload failed session=%s", session_id)
        if not live.is_idle():
            return  # a call came in while we checkpointed
        self._sessions.pop(session_id, None)
        self._presence.pop(session_id, None)
        live.close()
        log.info("session unloaded session=%s", session_id)

    async def _exit(self) -> None:
        self._exiting = True
        # Calls resolved before the flag may still arrive; they get HostExiting and retry.
        await asyncio.sleep(self._settings.exit_grace)
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
        if len(ops) > self._settings.max_ops_per_request:
            raise ValidationError(
                "ops", f"at most {self._settings.max_ops_per_request} ops per request"
            )
        result, change = live.core.apply_ops(
            ops, now_iso=utc_now_iso(), max_css_bytes=self._settings.max_theme_css_bytes
        )
        if change is not None:
            await live.commit(change)
            revision = change.append.revision
        else:
            revision = live.core.revision
        return {"revision": revision, "applied": result.applied, "errors": result.errors}

    def _presence_of(self, session_id: str) -> Presence:
        presence = self._presence.get(session_id)
        if presence is None:
            presence = self._presence[session_id] = Presence(self._settings.presence_timeout)
        return presence

    async def set_presence(
        self,
        session_id: str,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
    ) -> dict[str, Any]:
        await self._session(session_id)
        presence = self._presence_of(session_id)
        now = time.monotonic()
        presence.upsert(agent_id, name, cursor, status, now_iso=utc_now_iso(), now=now)
        return presence.to_json(now)

    async def get_presence(self, session_id: str) -> dict[str, Any]:
        await self._session(session_id)
        return self._presence_of(session_id).to_json(time.monotonic())

    async def delete(self, session_id: str) -> bool:
        self._enter()
        live = self._sessions.pop(session_id, None)
        if live is not None:
            live.mark_deleted()
            live.close()
        self._presence.pop(session_id, None)
        return await self._store.delete_session(session_id)

    async def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "sessions": len(self._sessions),
            "unflushed": sum(live.unflushed for live in self._sessions.values()),
        }
