"""How session hosts and the session client reach the store.

``StoreClient`` is what they need. ``StoreCore`` is the store itself (opened in this
process, appends group-committed); ``LinkStoreClient`` reaches the one store owner of
the cluster over a link, so a flush costs a link round trip, not a Ray call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from storage import (
    Append,
    GroupCommitter,
    LoadedDoc,
    SessionRecord,
    StorageSettings,
    Store,
    StoreError,
    make_store,
)

from ..link import Link, LinkAddress, LinkClosed, LinkSettings, RemoteFailure, dial
from ..singleflight import SingleFlight
from .wire import (
    StoreMethod,
    append_to_wire,
    loaded_from_wire,
    record_from_wire,
    record_to_wire,
)

__all__ = ["LinkStoreClient", "StoreClient", "StoreCore"]

log = logging.getLogger(__name__)


class StoreClient(Protocol):
    async def create_session(self, record: SessionRecord, initial: bytes) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]: ...

    async def load(self, session_id: str) -> LoadedDoc | None: ...

    async def append(self, rows: Sequence[Append]) -> None: ...

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None: ...

    async def delete_session(self, session_id: str) -> bool: ...


class StoreCore:
    """The store opened in this process; appends from every caller are group-committed."""

    def __init__(self, settings: StorageSettings) -> None:
        self._settings = settings
        self._store: Store = make_store(settings)
        self._committer = GroupCommitter(self._store, settings.group_commit_max_rows)

    @property
    def kind(self) -> str:
        return self._settings.store_kind

    @property
    def committer(self) -> GroupCommitter:
        return self._committer

    async def open(self) -> None:
        await self._store.open()

    async def close(self) -> None:
        await self._committer.stop()
        await self._store.close()

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self._store.create_session(record, initial)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._store.get_session(session_id)

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        return await self._store.list_sessions(limit, offset)

    async def load(self, session_id: str) -> LoadedDoc | None:
        return await self._store.load(session_id)

    async def append(self, rows: Sequence[Append]) -> None:
        await self._committer.append(rows)

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._store.snapshot(session_id, seq, data)

    async def delete_session(self, session_id: str) -> bool:
        return await self._store.delete_session(session_id)


class LinkStoreClient:
    """StoreClient over a link to the store owner; redials when the link breaks.

    A broken link surfaces as ``StoreError`` (the outcome is unknown): flushes retry,
    REST callers answer 503. Appends are idempotent per (session, seq), so retrying a
    flush whose commit did happen is harmless.
    """

    def __init__(
        self, resolve: Callable[[], Awaitable[LinkAddress]], settings: LinkSettings, name: str
    ) -> None:
        self._resolve = resolve
        self._settings = settings
        self._name = name
        self._link: Link | None = None
        self._reader: asyncio.Task[None] | None = None
        self._dialing: SingleFlight[str, Link] = SingleFlight()

    async def _connected(self) -> Link:
        link = self._link
        if link is not None and not link.closed:
            return link
        return await self._dialing.run("store", self._dial)

    async def _dial(self) -> Link:
        address = await self._resolve()
        link, reader = await dial(address, f"{self._name}->store", self._settings)
        self._link, self._reader = link, reader
        return link

    async def _call(self, method: StoreMethod, args: list[Any]) -> Any:
        try:
            link = await self._connected()
            return await link.request(method, args)
        except RemoteFailure as exc:
            raise StoreError(exc.message) from None
        except LinkClosed as exc:
            raise StoreError(f"store unreachable: {exc}") from exc

    async def close(self) -> None:
        if self._link is not None:
            await self._link.close("client closing")
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self._call(StoreMethod.CREATE_SESSION, [record_to_wire(record), initial])

    async def get_session(self, session_id: str) -> SessionRecord | None:
        value = await self._call(StoreMethod.GET_SESSION, [session_id])
        return None if value is None else record_from_wire(value)

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        values = await self._call(StoreMethod.LIST_SESSIONS, [limit, offset])
        return [record_from_wire(value) for value in values]

    async def load(self, session_id: str) -> LoadedDoc | None:
        value = await self._call(StoreMethod.LOAD, [session_id])
        return None if value is None else loaded_from_wire(value)

    async def append(self, rows: Sequence[Append]) -> None:
        await self._call(StoreMethod.APPEND, [[append_to_wire(row) for row in rows]])

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._call(StoreMethod.SNAPSHOT, [session_id, seq, data])

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._call(StoreMethod.DELETE_SESSION, [session_id]))
