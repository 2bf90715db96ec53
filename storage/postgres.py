"""Postgres store over asyncpg: one bounded pool per store process, however many sessions."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from .base import StoreError
from .records import Append, LoadedDoc, SessionRecord

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)

# Taken around schema creation so two gateways starting at once do not race on DDL.
_SCHEMA_LOCK_KEY = 0x61746C72

_SCHEMA = """
CREATE TABLE IF NOT EXISTS atelier_sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS atelier_updates (
    session_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS atelier_snapshots (
    session_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS atelier_sessions_created ON atelier_sessions (created_at, id);
"""

_RECORD_COLUMNS = "id, name, description, revision, created_at, updated_at"

_APPEND_ROWS = """
INSERT INTO atelier_updates (session_id, seq, data)
SELECT u.session_id, u.seq, u.data
FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS u(session_id, seq, data)
WHERE EXISTS (SELECT 1 FROM atelier_sessions s WHERE s.id = u.session_id)
ON CONFLICT (session_id, seq) DO NOTHING
"""

_ADVANCE_SESSIONS = """
UPDATE atelier_sessions AS s
SET revision = GREATEST(s.revision, u.revision), updated_at = u.updated_at
FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, revision, updated_at)
WHERE s.id = u.id
"""


def _record(row: asyncpg.Record) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        revision=int(row["revision"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class PostgresStore:
    def __init__(
        self,
        dsn: str,
        min_connections: int = 1,
        max_connections: int = 8,
        application_name: str = "atelier",
    ) -> None:
        self._dsn = dsn
        self._application_name = application_name
        self._min = min_connections
        self._max = max_connections
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("store is not open")
        return self._pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min,
                max_size=self._max,
                server_settings={"application_name": self._application_name},
            )
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK_KEY)
                await conn.execute(_SCHEMA)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot open postgres store: {exc}") from exc
        log.info("postgres store open max_connections=%s", self._max)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    f"INSERT INTO atelier_sessions ({_RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
                    record.id,
                    record.name,
                    record.description,
                    record.revision,
                    record.created_at,
                    record.updated_at,
                )
                await conn.execute(
                    "INSERT INTO atelier_updates (session_id, seq, data) VALUES ($1, 1, $2)",
                    record.id,
                    initial,
                )
        except asyncpg.PostgresError as exc:
            raise StoreError(f"create_session failed: {exc}") from exc

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {_RECORD_COLUMNS} FROM atelier_sessions WHERE id = $1", session_id
        )
        return None if row is None else _record(row)

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_RECORD_COLUMNS} FROM atelier_sessions ORDER BY created_at, id "
            "LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [_record(row) for row in rows]

    async def load(self, session_id: str) -> LoadedDoc | None:
        # Repeatable read: snapshot and log tail come from one view of the database.
        async with self.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            row = await conn.fetchrow(
                f"SELECT {_RECORD_COLUMNS} FROM atelier_sessions WHERE id = $1", session_id
            )
            if row is None:
                return None
            snap = await conn.fetchrow(
                "SELECT seq, data FROM atelier_snapshots WHERE session_id = $1", session_id
            )
            snapshot_seq = int(snap["seq"]) if snap else 0
            rows = await conn.fetch(
                "SELECT seq, data FROM atelier_updates WHERE session_id = $1 AND seq > $2 "
                "ORDER BY seq",
                session_id,
                snapshot_seq,
            )
        return LoadedDoc(
            record=_record(row),
            snapshot=bytes(snap["data"]) if snap else None,
            snapshot_seq=snapshot_seq,
            updates=[(int(r["seq"]), bytes(r["data"])) for r in rows],
        )

    async def append(self, batch: Sequence[Append]) -> None:
        if not batch:
            return
        last: dict[str, Append] = {item.session_id: item for item in batch}
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    _APPEND_ROWS,
                    [item.session_id for item in batch],
                    [item.seq for item in batch],
                    [item.data for item in batch],
                )
                await conn.execute(
                    _ADVANCE_SESSIONS,
                    list(last),
                    [item.revision for item in last.values()],
                    [item.updated_at for item in last.values()],
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"append failed: {exc}") from exc

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO atelier_snapshots (session_id, seq, data) "
                    "SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM atelier_sessions WHERE id = $1) "
                    "ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, data = excluded.data "
                    "WHERE excluded.seq >= atelier_snapshots.seq",
                    session_id,
                    seq,
                    data,
                )
                await conn.execute(
                    "DELETE FROM atelier_updates WHERE session_id = $1 AND seq <= $2",
                    session_id,
                    seq,
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"snapshot failed: {exc}") from exc

    async def delete_session(self, session_id: str) -> bool:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("DELETE FROM atelier_updates WHERE session_id = $1", session_id)
                await conn.execute("DELETE FROM atelier_snapshots WHERE session_id = $1", session_id)
                status = await conn.execute("DELETE FROM atelier_sessions WHERE id = $1", session_id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"delete failed: {exc}") from exc
        return bool(status.endswith(" 1"))
