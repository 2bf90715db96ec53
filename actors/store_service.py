"""The StoreService actor: the one owner of the store's connections, and its group committer.

Hundreds of session actors share it, so Postgres sees one bounded pool, and appends
arriving together from many sessions commit in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

from storage import (
    Append,
    GroupCommitter,
    LoadedDoc,
    SessionRecord,
    StorageSettings,
    Store,
    make_store,
)

__all__ = ["RayStoreClient", "StoreService", "STORE_ACTOR_NAME"]

log = logging.getLogger(__name__)

STORE_ACTOR_NAME = "atelier-store"


class StoreService:
    """Thin shell: opens the store on first use and forwards; appends go through group commit."""

    def __init__(self, settings: StorageSettings) -> None:
        self._settings = settings
        self._store: Store | None = None
        self._committer: GroupCommitter | None = None
        self._opening: asyncio.Lock | None = None

    async def _open(self) -> tuple[Store, GroupCommitter]:
        if self._store is not None and self._committer is not None:
            return self._store, self._committer
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._store is None:
                store = make_store(self._settings)
                await store.open()
                self._committer = GroupCommitter(store, self._settings.group_commit_max_rows)
                self._store = store
        assert self._store is not None and self._committer is not None
        return self._store, self._committer

    async def ready(self) -> str:
        await self._open()
        return self._settings.store_kind

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        store, _ = await self._open()
        await store.create_session(record, initial)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        store, _ = await self._open()
        return await store.get_session(session_id)

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        store, _ = await self._open()
        return await store.list_sessions(limit, offset)

    async def load(self, session_id: str) -> LoadedDoc | None:
        store, _ = await self._open()
        return await store.load(session_id)

    async def append(self, rows: Sequence[Append]) -> None:
        _, committer = await self._open()
        await committer.append(rows)

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        store, _ = await self._open()
        await store.snapshot(session_id, seq, data)

    async def delete_session(self, session_id: str) -> bool:
        store, _ = await self._open()
        return await store.delete_session(session_id)

    async def stats(self) -> dict[str, int]:
        _, committer = await self._open()
        return {
            "transactions": committer.transactions,
            "rows": committer.rows,
            "pid": os.getpid(),
        }

    async def shutdown(self) -> None:
        if self._committer is not None:
            await self._committer.stop()
        if self._store is not None:
            await self._store.close()
            self._store = None


class RayStoreClient:
    """StoreClient over a StoreService actor handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self._handle.create_session.remote(record, initial)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        result: SessionRecord | None = await self._handle.get_session.remote(session_id)
        return result

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        result: list[SessionRecord] = await self._handle.list_sessions.remote(limit, offset)
        return result

    async def load(self, session_id: str) -> LoadedDoc | None:
        result: LoadedDoc | None = await self._handle.load.remote(session_id)
        return result

    async def append(self, rows: Sequence[Append]) -> None:
        await self._handle.append.remote(list(rows))

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._handle.snapshot.remote(session_id, seq, data)

    async def delete_session(self, session_id: str) -> bool:
        result: bool = await self._handle.delete_session.remote(session_id)
        return result
