"""The storage contract every backend (SQLite, Postgres) fulfils."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .records import Append, LoadedDoc, SessionRecord, VersionRecord

__all__ = ["Store"]


class Store(Protocol):
    """A durable home for session records, their update logs and snapshots.

    ``append`` commits all its rows in one transaction (group commit); ``load`` reads
    snapshot and log tail in one consistent view, so a concurrent ``snapshot`` can never
    make a loader miss an update.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create_session(self, record: SessionRecord, initial: bytes) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionRecord]: ...

    async def load(self, session_id: str) -> LoadedDoc | None: ...

    async def append(self, batch: Sequence[Append]) -> None: ...

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None: ...

    async def delete_session(self, session_id: str) -> bool:
        """Deletes the session with its log, snapshot and versions."""
        ...

    # -- versions (Bridge): a record and the full Yjs state it names ----------------------

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        """Stores a version of an existing session; False when the session is gone."""
        ...

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        """The session's versions, oldest first (by log sequence, then creation)."""
        ...

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None: ...

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int: ...
