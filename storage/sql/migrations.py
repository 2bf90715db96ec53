"""Versioned schema migrations: one runner for every store, each with its own table and lock.

A store's ``MIGRATIONS`` is append-only: a released migration is never edited, a change is a
new version. Applied versions are recorded in the store's own table (``atelier_engine_migrations``,
``atelier_workspace_migrations``, ``atelier_bridge_migrations``), so the stores migrate
independently even in a shared Postgres schema. Opening a store applies what is missing, all
in one transaction, so a failed migration leaves the schema as it was. On Postgres the
transaction first takes an advisory lock keyed by the schema: gateways starting together
queue on it, and each after the first finds nothing to do.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

from storage.clock import utc_now_iso

if TYPE_CHECKING:
    import aiosqlite
    import asyncpg

__all__ = ["BeforeMigration", "Migration", "MigrationRunner", "check_schema_name", "split_sqlite"]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Migration(NamedTuple):
    version: int
    name: str
    sqlite: str
    postgres: str


# Runs inside the migration transaction, just before a pending migration's SQL (Postgres).
BeforeMigration = Callable[["asyncpg.Connection", str, Migration], Awaitable[object]]


def check_schema_name(schema: str) -> str:
    """The schema is spliced into DDL and ``search_path``, so only plain identifiers pass."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"postgres schema name must match {_SCHEMA_NAME.pattern}: {schema!r}")
    return schema


def split_sqlite(script: str) -> list[str]:
    """The statements of a script, one each (``executescript`` would commit our transaction)."""
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        # A ";" inside a string literal or a trigger body does not end the statement.
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise ValueError(f"unterminated SQL statement: {buffer.strip()[:80]!r}")
    return statements


@dataclass(frozen=True)
class MigrationRunner:
    """One store's migrations: where they are recorded, the lock they take, how they log.

    ``lock_class`` is the class half of the two-key advisory lock; the schema's hash is the
    other half. ``label`` names the store in its log lines, written to ``log``. ``migrations``
    are what the runners apply when the caller names none.
    """

    table: str
    lock_class: int
    label: str
    log: logging.Logger
    migrations: Sequence[Migration] = ()

    def pending(self, applied: Collection[int], migrations: Sequence[Migration]) -> list[Migration]:
        """The migrations still to apply, in order; refuses a list that is not strictly ascending."""
        versions = [m.version for m in migrations]
        if any(v <= 0 for v in versions) or any(a >= b for a, b in pairwise(versions)):
            raise ValueError(f"migration versions must be positive and strictly ascending: {versions}")
        newer = sorted(set(applied) - set(versions))
        if newer:
            # A newer build migrated this database; its migrations are additive, so keep going.
            self.log.warning("%s schema has versions this build does not know: %s", self.label, newer)
        return [m for m in migrations if m.version not in applied]

    def _create_table(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )

    async def migrate_sqlite(
        self, db: aiosqlite.Connection, migrations: Sequence[Migration] | None = None
    ) -> list[int]:
        """Applies the missing migrations in one transaction; returns the versions applied."""
        migrations = self.migrations if migrations is None else migrations
        # IMMEDIATE takes the write lock before reading the versions: another process opening
        # the same file waits (busy timeout) instead of applying the same migration.
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.execute(self._create_table())
            rows = await db.execute_fetchall(f"SELECT version FROM {self.table}")
            todo = self.pending({int(row[0]) for row in rows}, migrations)
            for migration in todo:
                for statement in split_sqlite(migration.sqlite):
                    await db.execute(statement)
                await db.execute(
                    f"INSERT INTO {self.table} (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, utc_now_iso()),
                )
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        return [m.version for m in todo]

    async def migrate_postgres(
        self,
        conn: asyncpg.Connection,
        schema: str,
        migrations: Sequence[Migration] | None = None,
        *,
        before: BeforeMigration | None = None,
    ) -> list[int]:
        """Creates the schema if needed and applies the missing migrations, all in one transaction."""
        migrations = self.migrations if migrations is None else migrations
        schema = check_schema_name(schema)
        async with conn.transaction():
            # Before CREATE SCHEMA: concurrent "IF NOT EXISTS" creations can still collide.
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", self.lock_class, schema)
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            # The migrations' unqualified names land in the schema, never in public.
            await conn.execute(f'SET LOCAL search_path TO "{schema}"')
            await conn.execute(self._create_table())
            rows = await conn.fetch(f"SELECT version FROM {self.table}")
            todo = self.pending({int(row["version"]) for row in rows}, migrations)
            for migration in todo:
                if before is not None:
                    await before(conn, schema, migration)
                await conn.execute(migration.postgres)
                await conn.execute(
                    f"INSERT INTO {self.table} (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    utc_now_iso(),
                )
        return [m.version for m in todo]
