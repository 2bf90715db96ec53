"""Postgres store over asyncpg: one bounded pool per store process, however many sessions."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

import asyncpg

from ..errors import StoreError
from ..pg_pool import acquired
from ..retries import quiet_pool_floor_warnings
from ..sql.migrations import check_schema_name
from .migrations import migrate_bridge_postgres
from .records import Append, LoadedDoc, SessionRecord, VersionRecord

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# A server away (stopped, restarting) or a connection lost mid-way (pg_terminate_backend):
# an outage of the store, never a bug. It is a StoreError, so REST answers 503 and commit
# loops retry, without a traceback. (InternalClientError: asyncpg's state machine on a
# connection the server cut mid-query.)
_DB_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


Method = Callable[P, Coroutine[Any, Any, R]]


def _store_errors(what: str) -> Callable[[Method[P, R]], Method[P, R]]:
    """The store's outages raised as ``StoreError`` (for methods without a handler of their own)."""

    def wrap(method: Method[P, R]) -> Method[P, R]:
        @functools.wraps(method)
        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await method(*args, **kwargs)
            except _DB_ERRORS as exc:
                raise StoreError(f"{what} failed: {exc}") from exc

        return call

    return wrap


_RECORD_COLUMNS = "id, name, description, revision, created_at, updated_at"
_VERSION_COLUMNS = "session_id, id, revision, seq, created_at, author, label, kind"

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


def _version(row: asyncpg.Record) -> VersionRecord:
    return VersionRecord(
        session_id=row["session_id"],
        id=row["id"],
        revision=int(row["revision"]),
        seq=int(row["seq"]),
        created_at=row["created_at"],
        author=row["author"],
        label=row["label"],
        kind=row["kind"],
    )


class PostgresStore:
    """Its tables live in ``schema`` (every connection's ``search_path``), migrated on open."""

    def __init__(
        self,
        dsn: str,
        min_connections: int = 1,
        max_connections: int = 8,
        application_name: str = "atelier",
        schema: str = "atelier",
    ) -> None:
        self._dsn = dsn
        self._schema = check_schema_name(schema)
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
            quiet_pool_floor_warnings()  # a Postgres outage is logged once, by the commit loops
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min,
                max_size=self._max,
                server_settings={"application_name": self._application_name, "search_path": self._schema},
            )
            async with acquired(self.pool) as conn:
                applied = await migrate_bridge_postgres(conn, self._schema)
        except (OSError, asyncpg.PostgresError) as exc:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
            raise StoreError(f"cannot open postgres store: {exc}") from exc
        log.info(
            "postgres store open schema=%s max_connections=%s migrated=%s", self._schema, self._max, applied
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # One connection per statement, as the pool's shortcuts, but a connection lost after the
    # statement ran does not fail it (pg_pool).

    async def _fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        async with acquired(self.pool) as conn:
            return list(await conn.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        async with acquired(self.pool) as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    async def _execute(self, sql: str, *args: object) -> str:
        async with acquired(self.pool) as conn:
            status: str = await conn.execute(sql, *args)
            return status

    @_store_errors("create_session")
    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        try:
            async with acquired(self.pool) as conn, conn.transaction():
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

    @_store_errors("get_session")
    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._fetchrow(
            f"SELECT {_RECORD_COLUMNS} FROM atelier_sessions WHERE id = $1", session_id
        )
        return None if row is None else _record(row)

    @_store_errors("list_sessions")
    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionRecord]:
        rows = await self._fetch(
            f"SELECT {_RECORD_COLUMNS} FROM atelier_sessions ORDER BY created_at, id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [_record(row) for row in rows]

    @_store_errors("load")
    async def load(self, session_id: str) -> LoadedDoc | None:
        # Repeatable read: snapshot and log tail come from one view of the database.
        async with acquired(self.pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
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
                "SELECT seq, data FROM atelier_updates WHERE session_id = $1 AND seq > $2 ORDER BY seq",
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
            async with acquired(self.pool) as conn, conn.transaction():
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
        except _DB_ERRORS as exc:
            raise StoreError(f"append failed: {exc}") from exc

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        try:
            async with acquired(self.pool) as conn, conn.transaction():
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
        except _DB_ERRORS as exc:
            raise StoreError(f"snapshot failed: {exc}") from exc

    async def delete_session(self, session_id: str) -> bool:
        try:
            async with acquired(self.pool) as conn, conn.transaction():
                await conn.execute("DELETE FROM atelier_updates WHERE session_id = $1", session_id)
                await conn.execute("DELETE FROM atelier_snapshots WHERE session_id = $1", session_id)
                await conn.execute("DELETE FROM atelier_versions WHERE session_id = $1", session_id)
                status = await conn.execute("DELETE FROM atelier_sessions WHERE id = $1", session_id)
        except _DB_ERRORS as exc:
            raise StoreError(f"delete failed: {exc}") from exc
        return bool(status.endswith(" 1"))

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        v = version
        try:
            status = await self._execute(
                f"INSERT INTO atelier_versions ({_VERSION_COLUMNS}, data) "
                "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 "
                "WHERE EXISTS (SELECT 1 FROM atelier_sessions WHERE id = $1)",
                v.session_id,
                v.id,
                v.revision,
                v.seq,
                v.created_at,
                v.author,
                v.label,
                v.kind,
                data,
            )
        except _DB_ERRORS as exc:
            raise StoreError(f"save_version failed: {exc}") from exc
        return bool(status.endswith(" 1"))

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        try:
            rows = await self._fetch(
                f"SELECT {_VERSION_COLUMNS} FROM atelier_versions WHERE session_id = $1 "
                "ORDER BY seq, created_at, id",
                session_id,
            )
        except _DB_ERRORS as exc:
            raise StoreError(f"list_versions failed: {exc}") from exc
        return [_version(row) for row in rows]

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        try:
            row = await self._fetchrow(
                f"SELECT {_VERSION_COLUMNS}, data FROM atelier_versions WHERE session_id = $1 AND id = $2",
                session_id,
                version_id,
            )
        except _DB_ERRORS as exc:
            raise StoreError(f"load_version failed: {exc}") from exc
        return None if row is None else (_version(row), bytes(row["data"]))

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int:
        if not version_ids:
            return 0
        try:
            status = await self._execute(
                "DELETE FROM atelier_versions WHERE session_id = $1 AND id = ANY($2::text[])",
                session_id,
                list(version_ids),
            )
        except _DB_ERRORS as exc:
            raise StoreError(f"delete_versions failed: {exc}") from exc
        return int(status.split()[-1])
