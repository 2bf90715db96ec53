"""SessionDirectory: the gateway's way to reach session actors.

It owns placement (one host actor per session, or sessions hashed over a fixed set of
hosts), resolves and caches actor handles, coalesces concurrent first uses into one
activation, and translates Ray failures into SessionUnavailable / SessionNotFound.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
import zlib
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError

from storage import SessionRecord, StorageSettings, utc_now_iso

from .core.theme import ThemeParams
from .errors import HostExiting, SessionNotFound, SessionUnavailable
from .host import SessionHost
from .settings import ActorSettings
from .singleflight import SingleFlight
from .store_service import STORE_ACTOR_NAME, RayStoreClient, StoreService

__all__ = ["SessionDirectory", "new_session_id", "valid_session_id"]

# Ray's handle typing does not follow methods called by name; handles are opaque here.
Handle = Any

log = logging.getLogger(__name__)

# Handles unused for this share of the idle timeout are resolved again by name, so a
# cached handle never outlives the actor it points to (that actor waits a full timeout).
_HANDLE_TTL_SHARE = 0.5
_MAX_ATTEMPTS = 6
# Only a host ends itself with ray.kill, and only when idle: a call that finds it dead
# that way was never run, so even a mutation may be retried.
_SELF_EXIT = "killed by `ray.kill`"


# Session ids become actor names: a safe, bounded alphabet.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def new_session_id() -> str:
    return str(uuid.uuid4())


def valid_session_id(session_id: str) -> bool:
    return _SESSION_ID.match(session_id) is not None


class SessionDirectory:
    def __init__(self, settings: ActorSettings, storage: StorageSettings) -> None:
        self._settings = settings
        self._storage = storage
        self._handles: dict[str, tuple[Handle, float]] = {}
        self._resolving: SingleFlight[str, Handle] = SingleFlight()
        self._store: RayStoreClient | None = None
        self._host_cls = ray.remote(SessionHost)

    @property
    def store(self) -> RayStoreClient:
        if self._store is None:
            raise SessionUnavailable("directory not started")
        return self._store

    async def start(self) -> str:
        """Create (or join) the StoreService actor and wait until the store is open."""
        handle: Handle = (
            ray.remote(StoreService)
            .options(
                name=STORE_ACTOR_NAME,
                namespace=self._settings.namespace,
                get_if_exists=True,
                lifetime="detached",
                num_cpus=0,
                max_restarts=-1,
                max_concurrency=10000,
            )
            .remote(self._storage)
        )
        kind: str = await handle.ready.remote()
        self._store = RayStoreClient(handle)
        log.info("store service ready kind=%s namespace=%s", kind, self._settings.namespace)
        return kind

    # -- placement --------------------------------------------------------------------

    def host_name(self, session_id: str) -> str:
        if self._settings.placement == "hashed":
            return f"host:{zlib.crc32(session_id.encode()) % self._settings.hosts}"
        return f"session:{session_id}"

    def _options(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": self._settings.namespace,
            "get_if_exists": True,
            "lifetime": "detached",
            "num_cpus": 0,
            "max_restarts": self._settings.max_restarts,
            "max_concurrency": 10000,
        }

    async def _resolve(self, session_id: str, *, known_to_exist: bool) -> Handle:
        name = self.host_name(session_id)
        cached = self._handles.get(name)
        ttl = self._settings.idle_timeout * _HANDLE_TTL_SHARE
        if cached is not None and time.monotonic() - cached[1] < ttl:
            self._handles[name] = (cached[0], time.monotonic())
            return cached[0]
        return await self._resolving.run(
            name, lambda: self._lookup_or_create(name, session_id, known_to_exist)
        )

    async def _lookup_or_create(
        self, name: str, session_id: str, known_to_exist: bool
    ) -> Handle:
        try:
            found: Handle = ray.get_actor(name, namespace=self._settings.namespace)
        except ValueError:
            pass  # no such actor yet
        else:
            self._handles[name] = (found, time.monotonic())
            return found
        if not known_to_exist and self._settings.placement == "session":
            # Do not start a process for a session id nobody created.
            if await self.store.get_session(session_id) is None:
                raise SessionNotFound(session_id)
        handle: Handle = self._host_cls.options(**self._options(name)).remote(self._settings)
        self._handles[name] = (handle, time.monotonic())
        return handle

    async def handle_for(self, session_id: str) -> Handle:
        """The host actor of an existing session (raises SessionNotFound)."""
        return await self._resolve(session_id, known_to_exist=False)

    def forget(self, session_id: str) -> None:
        self._handles.pop(self.host_name(session_id), None)

    # -- calls ------------------------------------------------------------------------

    async def call(
        self, session_id: str, method: str, *args: Any, retry_unknown: bool = True
    ) -> Any:
        """Call a SessionHost method for a session.

        HostExiting is always retried (the call did not run), and so is an actor found
        dead by its own idle exit. Any other dead actor is retried only when
        ``retry_unknown`` (reads): for a mutation the outcome is unknown and the caller
        gets SessionUnavailable.
        """
        last: Exception | None = None
        for attempt in range(_MAX_ATTEMPTS):
            handle = await self._resolve(session_id, known_to_exist=False)
            try:
                return await getattr(handle, method).remote(session_id, *args)
            except RayTaskError as exc:
                # The actor raised: hand the domain error itself to the caller.
                if not isinstance(exc.cause, HostExiting):
                    raise exc.cause from None
                last = exc.cause
            except RayActorError as exc:
                last = exc
                if not retry_unknown and _SELF_EXIT not in str(exc):
                    self.forget(session_id)
                    raise SessionUnavailable(
                        "the session's actor failed during the call; retry"
                    ) from exc
            self.forget(session_id)
            log.info("retrying session=%s method=%s attempt=%d: %s", session_id, method, attempt + 1, last)
            await asyncio.sleep(min(0.05 * 2**attempt, 0.5))
        raise SessionUnavailable(f"session actor unavailable: {last}")

    async def create_session(
        self, name: str, description: str, spec: dict[str, Any], theme: ThemeParams
    ) -> dict[str, Any]:
        session_id = new_session_id()
        now = utc_now_iso()
        record = SessionRecord(session_id, name, description, 0, now, now)
        handle = await self._resolve(session_id, known_to_exist=True)
        try:
            result: dict[str, Any] = await handle.create.remote(record, spec, theme)
        except RayTaskError as exc:
            raise exc.cause from None
        except RayActorError as exc:
            self.forget(session_id)
            raise SessionUnavailable("could not create the session's actor") from exc
        return result

    async def list_sessions(self, limit: int, offset: int) -> list[dict[str, Any]]:
        records = await self.store.list_sessions(limit, offset)
        return [record.to_json() for record in records]

    async def get_session(self, session_id: str) -> dict[str, Any]:
        record = await self.store.get_session(session_id)
        if record is None:
            raise SessionNotFound(session_id)
        return record.to_json()

    async def delete_session(self, session_id: str) -> None:
        if await self.store.get_session(session_id) is None:
            raise SessionNotFound(session_id)
        await self.call(session_id, "delete")
        self.forget(session_id)
