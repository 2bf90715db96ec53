"""Versioned schema migrations of the Bridge Postgres store (sessions, log, snapshots, versions).

As the engine store's (``storage/engine/migrations.py``): ``MIGRATIONS`` is append-only,
applied versions are recorded in ``atelier_bridge_migrations`` inside the store's schema,
and opening the store applies what is missing in one transaction under an advisory lock.

Before this module the Bridge tables lived in the connection's default schema (``public``).
Migration 1 adopts them: when the configured schema has no ``atelier_sessions`` yet and
``public`` has, the three tables are moved (``ALTER TABLE ... SET SCHEMA``, data untouched)
and the move is logged as a warning. ``ATELIER_PG_SCHEMA=public`` keeps them where they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from ..sql.migrations import Migration, MigrationRunner

__all__ = ["LEGACY_TABLES", "MIGRATIONS", "MIGRATIONS_TABLE", "migrate_bridge_postgres"]

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "atelier_bridge_migrations"

# The engine's lock class: Bridge, engine and workspace stores may create the same schema,
# and concurrent CREATE SCHEMA IF NOT EXISTS can still collide, so they queue on one lock.
_LOCK_CLASS = 0x61656E67

LEGACY_TABLES = ("atelier_sessions", "atelier_updates", "atelier_snapshots")

_V1 = """
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

_V2 = """
CREATE TABLE atelier_versions (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('auto', 'manual')),
    data BYTEA NOT NULL,
    PRIMARY KEY (session_id, id)
);
CREATE INDEX atelier_versions_order ON atelier_versions (session_id, seq, created_at);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sessions, update log and snapshots (adopting tables from public)", "", _V1),
    Migration(2, "versions of Bridge sessions", "", _V2),
)


async def _adopt_legacy(conn: asyncpg.Connection, schema: str) -> list[str]:
    """Moves the pre-schema tables from ``public`` into ``schema``; returns what moved."""
    if schema == "public":
        return []
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".atelier_sessions')
    if exists:
        return []
    moved: list[str] = []
    for table in LEGACY_TABLES:
        if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{table}"):
            await conn.execute(f'ALTER TABLE public.{table} SET SCHEMA "{schema}"')
            moved.append(table)
    if moved:
        log.warning("bridge store: moved existing tables %s from schema public to %s", moved, schema)
    return moved


async def _before(conn: asyncpg.Connection, schema: str, migration: Migration) -> None:
    if migration.version == 1:
        await _adopt_legacy(conn, schema)


_RUNNER = MigrationRunner(MIGRATIONS_TABLE, _LOCK_CLASS, "bridge", log, MIGRATIONS)


async def migrate_bridge_postgres(
    conn: asyncpg.Connection, schema: str, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Creates the schema if needed and applies the missing migrations, in one transaction."""
    return await _RUNNER.migrate_postgres(conn, schema, migrations, before=_before)
