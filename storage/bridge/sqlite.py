"""Embedded SQLite store: the zero-configuration default (one file in the data directory)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from ..errors import StoreError
from .records import Append, LoadedDoc, SessionRecord, VersionRecord

__all__ = ["SqliteStore"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    session_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created_at, id);
CREATE TABLE IF NOT EXISTS versions (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (session_id, id)
);
CREATE INDEX IF NOT EXISTS versions_order ON versions (session_id, seq, created_at);
"""

_RECORD_COLUMNS = "id, name, description, revision, created_at, updated_at"
_VERSION_COLUMNS = "session_id, id, revision, seq, created_at, author, label, kind"


def _record(row: Any) -> SessionRecord:
    return SessionRecord(
        id=str(row[0]),
        name=str(row[1]),
        description=str(row[2]),
        revision=int(row[3]),
        created_at=str(row[4]),
        updated_at=str(row[5]),
    )


def _version(row: Any) -> VersionRecord:
    return VersionRecord(
        session_id=str(row[0]),
        id=str(row[1]),
        revision=int(row[2]),
        seq=int(row[3]),
        created_at=str(row[4]),
        author=str(row[5]),
        label=str(row[6]),
        kind=str(row[7]),
    )


class SqliteStore:
    """One connection, one writer: SQLite serialises writes anyway, so group commit is the win.

    ``synchronous`` is FULL by default so a committed append survives power loss, not
    only a process crash.
    """

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self._path = path
        self._synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        # One connection is shared by every caller: transactions must not interleave.
        self._lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path, isolation_level=None)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(f"PRAGMA synchronous={self._synchronous}")
        await self._db.executescript(_SCHEMA)
        log.info("sqlite store open path=%s", self._path)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _write(self, statements: Sequence[tuple[str, Sequence[object]]]) -> int:
        """Run the statements in one transaction; returns the last statement's row count."""
        return await self._write_many([(sql, [params]) for sql, params in statements])

    async def _write_many(self, statements: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> int:
        """One transaction; each statement runs once per parameter row (one thread hop)."""
        db = self.db
        rowcount = 0
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    cursor = await db.executemany(sql, rows)
                    rowcount = cursor.rowcount
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite write failed: {exc}") from exc
        return rowcount

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        async with self._lock:
            await self._create(record, initial)

    async def _create(self, record: SessionRecord, initial: bytes) -> None:
        await self._write(
            [
                (
                    f"INSERT INTO sessions ({_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.name,
                        record.description,
                        record.revision,
                        record.created_at,
                        record.updated_at,
                    ),
                ),
                ("INSERT INTO updates (session_id, seq, data) VALUES (?, 1, ?)", (record.id, initial)),
            ]
        )

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self._lock:
            return await self._get(session_id)

    async def _get(self, session_id: str) -> SessionRecord | None:
        async with self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _record(row)

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionRecord]:
        async with (
            self._lock,
            self.db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM sessions ORDER BY created_at, id LIMIT ? OFFSET ?",
                (limit, offset),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [_record(row) for row in rows]

    async def load(self, session_id: str) -> LoadedDoc | None:
        async with self._lock:
            return await self._load(session_id)

    async def _load(self, session_id: str) -> LoadedDoc | None:
        db = self.db
        # One read transaction: a snapshot committed in between cannot hide log rows.
        await db.execute("BEGIN")
        try:
            record = await self._get(session_id)
            if record is None:
                return None
            async with db.execute(
                "SELECT seq, data FROM snapshots WHERE session_id = ?", (session_id,)
            ) as cursor:
                snap = await cursor.fetchone()
            snapshot_seq = int(snap[0]) if snap else 0
            async with db.execute(
                "SELECT seq, data FROM updates WHERE session_id = ? AND seq > ? ORDER BY seq",
                (session_id, snapshot_seq),
            ) as cursor:
                rows = await cursor.fetchall()
        finally:
            await db.execute("COMMIT")
        return LoadedDoc(
            record=record,
            snapshot=bytes(snap[1]) if snap else None,
            snapshot_seq=snapshot_seq,
            updates=[(int(seq), bytes(data)) for seq, data in rows],
        )

    async def append(self, batch: Sequence[Append]) -> None:
        if not batch:
            return
        last: dict[str, Append] = {item.session_id: item for item in batch}
        async with self._lock:
            await self._write_many(
                [
                    # Rows of a session deleted meanwhile are dropped, never fail the batch.
                    (
                        "INSERT OR IGNORE INTO updates (session_id, seq, data) "
                        "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
                        [(i.session_id, i.seq, i.data, i.session_id) for i in batch],
                    ),
                    (
                        "UPDATE sessions SET revision = MAX(revision, ?), updated_at = ? WHERE id = ?",
                        [(i.revision, i.updated_at, i.session_id) for i in last.values()],
                    ),
                ]
            )

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        async with self._lock:
            await self._snapshot(session_id, seq, data)

    async def _snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._write(
            [
                (
                    "INSERT INTO snapshots (session_id, seq, data) "
                    "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?) "
                    "ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, data = excluded.data "
                    "WHERE excluded.seq >= snapshots.seq",
                    (session_id, seq, data, session_id),
                ),
                ("DELETE FROM updates WHERE session_id = ? AND seq <= ?", (session_id, seq)),
            ]
        )

    async def delete_session(self, session_id: str) -> bool:
        async with self._lock:
            deleted = await self._write(
                [
                    ("DELETE FROM updates WHERE session_id = ?", (session_id,)),
                    ("DELETE FROM snapshots WHERE session_id = ?", (session_id,)),
                    ("DELETE FROM versions WHERE session_id = ?", (session_id,)),
                    ("DELETE FROM sessions WHERE id = ?", (session_id,)),
                ]
            )
        return deleted > 0

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        v = version
        async with self._lock:
            saved = await self._write(
                [
                    (
                        f"INSERT INTO versions ({_VERSION_COLUMNS}, data) "
                        "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
                        (
                            v.session_id,
                            v.id,
                            v.revision,
                            v.seq,
                            v.created_at,
                            v.author,
                            v.label,
                            v.kind,
                            data,
                            v.session_id,
                        ),
                    )
                ]
            )
        return saved > 0

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        async with (
            self._lock,
            self.db.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE session_id = ? ORDER BY seq, created_at, id",
                (session_id,),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [_version(row) for row in rows]

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        async with (
            self._lock,
            self.db.execute(
                f"SELECT {_VERSION_COLUMNS}, data FROM versions WHERE session_id = ? AND id = ?",
                (session_id, version_id),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return None if row is None else (_version(row), bytes(row[8]))

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int:
        if not version_ids:
            return 0
        async with self._lock:
            return await self._write_many(
                [
                    (
                        "DELETE FROM versions WHERE session_id = ? AND id = ?",
                        [(session_id, v) for v in version_ids],
                    )
                ]
            )
