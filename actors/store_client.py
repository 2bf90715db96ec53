"""How session actors reach the store: the StoreService actor, or a store in-process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage import Append, LoadedDoc, SessionRecord

__all__ = ["StoreClient"]


class StoreClient(Protocol):
    async def create_session(self, record: SessionRecord, initial: bytes) -> None: ...

    async def load(self, session_id: str) -> LoadedDoc | None: ...

    async def append(self, rows: Sequence[Append]) -> None: ...

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None: ...

    async def delete_session(self, session_id: str) -> bool: ...
