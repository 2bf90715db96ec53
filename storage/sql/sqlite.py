"""The embedded stores' SQLite plumbing: one connection, one lock, WAL, migrations on open."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from .base import Database, StoreErrors
from .migrations import Migration

__all__ = ["SYNCHRONOUS_MODES", "SqliteDatabase", "translated"]

SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})

# Bounds the wait for another connection's WAL switch: about 2 s in all.
_WAL_ATTEMPTS = 20
_WAL_RETRY_DELAY = 0.01


@contextmanager
def translated(what: str, errors: StoreErrors) -> Iterator[None]:
    """SQLite's errors raised as the store's: a duplicate key, a missing reference, the rest."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"):
            raise errors.conflict(f"{what}: {exc}") from exc
        if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            raise errors.not_found(f"{what}: a record it refers to does not exist") from exc
        raise errors.error(f"{what} failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise errors.error(f"{what} failed: {exc}") from exc


class SqliteDatabase(Database[aiosqlite.Connection]):
    """One connection and one writer: SQLite serialises writes anyway.

    Reads take the same lock as writes because the connection is shared: a read issued
    while another caller's transaction is open would see its uncommitted rows. Every write
    is ``BEGIN IMMEDIATE``, so several stores (processes) on one file stay correct.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"sqlite synchronous must be one of {sorted(SYNCHRONOUS_MODES)}")
        super().__init__(migrations)
        self._path = path
        self._synchronous = synchronous.upper()

    @property
    def path(self) -> Path:
        return self._path

    async def _connect(self) -> aiosqlite.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db: aiosqlite.Connection | None = None
        try:
            with translated(f"opening the {self._label} store", self._errors):
                db = await aiosqlite.connect(self._path, isolation_level=None)
                await self._enable_wal(db)
                await db.execute(f"PRAGMA synchronous={self._synchronous}")
                # Per connection, off by default: the cascades and references rely on it.
                await db.execute("PRAGMA foreign_keys=ON")
                applied = await self._runner.migrate_sqlite(db, self._migrations)
        except BaseException:
            if db is not None:
                await db.close()
            raise
        self._log.info("%s sqlite store open path=%s migrated=%s", self._label, self._path, applied)
        return db

    async def _enable_wal(self, db: aiosqlite.Connection) -> None:
        # Switching to WAL needs an exclusive lock, and SQLite answers BUSY at once (without
        # its busy handler) while another connection is opening the same file: retry briefly.
        for attempt in range(_WAL_ATTEMPTS):
            try:
                rows = list(await db.execute_fetchall("PRAGMA journal_mode=WAL"))
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorname", "") != "SQLITE_BUSY" or attempt == _WAL_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_WAL_RETRY_DELAY * (attempt + 1))
                continue
            if rows and str(rows[0][0]).lower() != "wal":
                self._log.warning(
                    "%s sqlite store is not in WAL mode path=%s mode=%s", self._label, self._path, rows[0][0]
                )
            return

    async def close(self) -> None:
        async with self._lock:
            if self._handle is not None:
                await self._handle.close()
                self._handle = None

    @asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; anything raised inside rolls all of it back."""
        async with self._lock:
            db = self._conn
            with translated(what, self._errors):
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    @asynccontextmanager
    async def _read(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, under the lock, for reads only."""
        async with self._lock:
            db = self._conn
            with translated(what, self._errors):
                yield db

    async def _fetch(self, what: str, sql: str, params: Sequence[object]) -> list[Any]:
        async with self._read(what) as db:
            return list(await db.execute_fetchall(sql, params))
