"""Where one test's engine or workspace stores live: a fresh SQLite directory or a fresh
Postgres schema, dropped afterwards. A test module names its kind with ``PLACE = ...``; the
``place`` and ``store`` fixtures (``conftest.py``) open that kind on each backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiosqlite
import asyncpg

from storage.engine import MIGRATIONS as ENGINE_MIGRATIONS
from storage.engine.migrations import MIGRATIONS_TABLE as ENGINE_MIGRATIONS_TABLE
from storage.engine.postgres import PostgresEngineStore
from storage.engine.sqlite import SqliteEngineStore
from storage.workspace.migrations import MIGRATIONS as WORKSPACE_MIGRATIONS
from storage.workspace.migrations import MIGRATIONS_TABLE as WORKSPACE_MIGRATIONS_TABLE
from storage.workspace.postgres import PostgresWorkspaceStore
from storage.workspace.sqlite import SqliteWorkspaceStore

__all__ = ["EnginePlace", "Place", "WorkspacePlace", "new_place", "ts"]

P = TypeVar("P", bound="Place")


def ts(second: int) -> str:
    return f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}.000Z"


@dataclass(frozen=True)
class StoreKind:
    """What differs between the engine and workspace stores' places."""

    name: str
    migrations_table: str
    migrations: Sequence[Any]
    sqlite: Callable[..., Any]
    postgres: Callable[..., Any]


@dataclass
class Place:
    """Where one test's stores live: a fresh SQLite directory or a fresh Postgres schema."""

    store_kind: ClassVar[StoreKind]  # set by each kind of place

    kind: str
    data_dir: Path
    pg_url: str | None
    schema: str

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / f"{self.store_kind.name}.sqlite3"

    def store(self, migrations: Sequence[Any] | None = None) -> Any:
        """A new (unopened) store here, with the kind's migrations unless told others."""
        chosen = self.store_kind.migrations if migrations is None else migrations
        if self.pg_url is None:
            return self.store_kind.sqlite(self.sqlite_path, migrations=chosen)
        return self.store_kind.postgres(
            self.pg_url,
            schema=self.schema,
            max_connections=4,
            application_name=f"atelier-{self.store_kind.name}-test",
            migrations=chosen,
        )

    async def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Raw SQL beside the store (``?`` placeholders), committed: to look at what the
        store left behind, or to write rows as an older build would have."""
        if self.pg_url is None:
            async with aiosqlite.connect(self.sqlite_path) as db:
                rows = [tuple(row) for row in await db.execute_fetchall(sql, args)]
                await db.commit()
                return rows
        for n in range(len(args)):
            sql = sql.replace("?", f"${n + 1}", 1)
        conn = await asyncpg.connect(self.pg_url, server_settings={"search_path": self.schema})
        try:
            return [tuple(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    async def tables(self) -> set[str]:
        if self.pg_url is None:
            rows = await self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = await self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", self.schema
            )
        return {str(row[0]) for row in rows}

    async def columns(self, table: str) -> set[str]:
        if self.pg_url is None:
            rows = await self.query("SELECT name FROM pragma_table_info(?)", table)
        else:
            rows = await self.query(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                self.schema,
                table,
            )
        return {str(row[0]) for row in rows}

    async def applied_versions(self) -> list[int]:
        rows = await self.query(f"SELECT version FROM {self.store_kind.migrations_table} ORDER BY version")
        return [int(row[0]) for row in rows]


@dataclass
class EnginePlace(Place):
    store_kind = StoreKind(
        "engine", ENGINE_MIGRATIONS_TABLE, ENGINE_MIGRATIONS, SqliteEngineStore, PostgresEngineStore
    )


@dataclass
class WorkspacePlace(Place):
    store_kind = StoreKind(
        "workspace",
        WORKSPACE_MIGRATIONS_TABLE,
        WORKSPACE_MIGRATIONS,
        SqliteWorkspaceStore,
        PostgresWorkspaceStore,
    )


@asynccontextmanager
async def new_place(place_type: type[P], kind: str, pg_url: str | None, data_dir: Path) -> AsyncIterator[P]:
    spot = place_type(kind, data_dir, pg_url, f"{place_type.store_kind.name}_test_{uuid.uuid4().hex[:12]}")
    try:
        yield spot
    finally:
        if pg_url is not None:
            conn = await asyncpg.connect(pg_url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{spot.schema}" CASCADE')
            finally:
                await conn.close()
