"""The Postgres stores' plumbing over asyncpg: a bounded pool, its tables in the store's schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import orjson

from storage.pg_pool import acquired
from storage.retries import quiet_pool_floor_warnings

from .base import Database, StoreErrors
from .migrations import Migration, check_schema_name

__all__ = ["PostgresDatabase", "as_is", "translated"]


def as_is(value: Any) -> Any:
    """The JSON loader of rows read over the pool: its codec has decoded ``jsonb`` already."""
    return value


@contextmanager
def translated(what: str, errors: StoreErrors) -> Iterator[None]:
    """asyncpg's errors raised as the store's: a duplicate key, a missing reference, the rest."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise errors.conflict(f"{what}: {exc.detail or exc}") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise errors.not_found(f"{what}: a record it refers to does not exist ({exc.detail or exc})") from exc
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        # InternalClientError: a connection the server cut mid-query (pg_terminate_backend).
        # InterfaceError covers arguments the codecs refuse (e.g. an unserialisable JSON value).
        raise errors.error(f"{what} failed: {exc}") from exc


def _jsonb_codec(error: type[Exception]) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    """Every connection's ``jsonb`` codec: Python values in and out, refusals as ``error``."""

    def encode(value: object) -> bytes:
        try:
            # jsonb's binary wire format is a version byte (1) and the JSON text.
            return b"\x01" + orjson.dumps(value)
        except orjson.JSONEncodeError as exc:
            raise error(f"a JSON column is not JSON-serialisable: {exc}") from exc

    def decode(data: bytes) -> Any:
        return orjson.loads(data[1:])

    async def init(conn: asyncpg.Connection) -> None:
        await conn.set_type_codec(
            "jsonb", schema="pg_catalog", encoder=encode, decoder=decode, format="binary"
        )

    return init


class PostgresDatabase(Database[asyncpg.Pool]):
    """A bounded pool (``max_connections``) whatever the number of live sessions.

    Every connection's ``search_path`` is the store's schema, so the SQL names its tables
    unqualified and nothing lands in ``public``. ``application_name`` defaults to
    ``atelier-<label>``.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "atelier",
        max_connections: int = 4,
        application_name: str | None = None,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        super().__init__(migrations)
        self._dsn = dsn
        self._schema = check_schema_name(schema)
        self._max = max_connections
        self._application_name = f"atelier-{self._label}" if application_name is None else application_name

    @property
    def schema(self) -> str:
        return self._schema

    async def _connect(self) -> asyncpg.Pool:
        pool: asyncpg.Pool | None = None
        try:
            with translated(f"opening the {self._label} store", self._errors):
                quiet_pool_floor_warnings()  # a Postgres outage is logged once, by the commit loops
                pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._max,
                    init=_jsonb_codec(self._errors.error),
                    server_settings={
                        "application_name": self._application_name,
                        "search_path": self._schema,
                    },
                )
                async with pool.acquire() as conn:
                    applied = await self._runner.migrate_postgres(conn, self._schema, self._migrations)
        except BaseException:
            if pool is not None:
                await pool.close()
            raise
        self._log.info(
            "%s postgres store open schema=%s max_connections=%s migrated=%s",
            self._label,
            self._schema,
            self._max,
            applied,
        )
        return pool

    async def close(self) -> None:
        pool, self._handle = self._handle, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[asyncpg.Connection]:
        with translated(what, self._errors):
            async with acquired(self._conn) as conn, conn.transaction():
                yield conn

    @asynccontextmanager
    async def _connection(self, what: str) -> AsyncIterator[asyncpg.Connection]:
        """One connection for one statement (or a few reads), outside any transaction."""
        with translated(what, self._errors):
            async with acquired(self._conn) as conn:
                yield conn

    async def _fetch(self, what: str, sql: str, *args: object) -> list[asyncpg.Record]:
        async with self._connection(what) as conn:
            return list(await conn.fetch(sql, *args))

    async def _fetchrow(self, what: str, sql: str, *args: object) -> asyncpg.Record | None:
        async with self._connection(what) as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    async def _execute(self, what: str, sql: str, *args: object) -> None:
        async with self._connection(what) as conn:
            await conn.execute(sql, *args)
