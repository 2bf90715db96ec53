"""Versioned schema migrations of the workspace store, and their runners for both backends.

``MIGRATIONS`` is append-only: a released migration is never edited, a change is a new
version. Applied versions are recorded in ``atelier_workspace_migrations`` (the workspace's
own table: it migrates independently of the session and engine stores, even in a shared
Postgres schema). Opening a store applies what is missing, all in one transaction, so a
failed migration leaves the schema as it was. On Postgres the transaction first takes an
advisory lock keyed by the schema: gateways starting together queue on it, and each after
the first finds nothing to do.

Every table is prefixed ``workspace_`` because the default schema (``atelier``) is shared
with the engine's tables.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Collection, Sequence
from itertools import pairwise
from typing import NamedTuple

import aiosqlite
import asyncpg

from storage.records import utc_now_iso

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "Migration",
    "check_schema_name",
    "migrate_postgres",
    "migrate_sqlite",
    "pending",
    "split_sqlite",
]

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "atelier_workspace_migrations"

# The class half of the two-key advisory lock; the schema's hash is the other half.
_LOCK_CLASS = 0x6177_7370  # "awsp"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Migration(NamedTuple):
    version: int
    name: str
    sqlite: str
    postgres: str


# {json} is TEXT on SQLite and JSONB on Postgres; {big} INTEGER / BIGINT; {norowid} the
# SQLite table option for tables keyed by their primary key alone.
_V1 = """
CREATE TABLE workspace_projects (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    fiscal_year TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    github {json}
);
CREATE INDEX workspace_projects_owner ON workspace_projects (owner_id, created_at DESC, id);
CREATE TABLE workspace_sessions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES workspace_projects (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    type TEXT NOT NULL,
    title TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workspace_sessions_project ON workspace_sessions (project_id, created_at DESC, id);
CREATE TABLE workspace_messages (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES workspace_sessions (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('USER', 'ASSISTANT', 'SYSTEM')),
    content TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    seq {big} NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE TABLE workspace_runs (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES workspace_sessions (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input TEXT NOT NULL,
    type TEXT NOT NULL,
    selected_file_ids {json} NOT NULL,
    created_at TEXT NOT NULL,
    result {json},
    error TEXT,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX workspace_runs_session ON workspace_runs (session_id, created_at DESC, id);
CREATE UNIQUE INDEX workspace_runs_one_active ON workspace_runs (session_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX workspace_runs_unfinished ON workspace_runs (created_at)
    WHERE status IN ('queued', 'running');
CREATE TABLE workspace_files (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES workspace_projects (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size {big} NOT NULL CHECK (size >= 0),
    object_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('UPLOADED', 'INDEXING', 'READY', 'FAILED')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    reason TEXT,
    chunks_count INTEGER NOT NULL CHECK (chunks_count >= 0),
    indexing_started_at TEXT
);
CREATE INDEX workspace_files_project ON workspace_files (project_id, created_at DESC, id);
CREATE INDEX workspace_files_indexing ON workspace_files (indexing_started_at)
    WHERE status = 'INDEXING';
CREATE TABLE workspace_file_chunks (
    file_id TEXT NOT NULL REFERENCES workspace_files (id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (file_id, chunk_index)
){norowid};
CREATE TABLE workspace_quota_usage (
    user_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    used INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, period_key)
){norowid};
CREATE TABLE workspace_quota_reservations (
    run_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('reserved', 'confirmed', 'released')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workspace_quota_reservations_user
    ON workspace_quota_reservations (user_id, period_key);
"""

_V1_SQLITE = _V1.format(json="TEXT", big="INTEGER", norowid=" WITHOUT ROWID")
_V1_POSTGRES = _V1.format(json="JSONB", big="BIGINT", norowid="")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "projects, sessions, messages, runs, files, chunks and the quota ledger",
        _V1_SQLITE,
        _V1_POSTGRES,
    ),
)


def pending(applied: Collection[int], migrations: Sequence[Migration]) -> list[Migration]:
    """The migrations still to apply, in order; refuses a list that is not strictly ascending."""
    versions = [m.version for m in migrations]
    if any(v <= 0 for v in versions) or any(a >= b for a, b in pairwise(versions)):
        raise ValueError(f"migration versions must be positive and strictly ascending: {versions}")
    newer = sorted(set(applied) - set(versions))
    if newer:
        # A newer build migrated this database; its migrations are additive, so keep going.
        log.warning("workspace schema has versions this build does not know: %s", newer)
    return [m for m in migrations if m.version not in applied]


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


async def migrate_sqlite(db: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Applies the missing migrations in one transaction; returns the versions applied."""
    # IMMEDIATE takes the write lock before reading the versions: another process opening
    # the same file waits (busy timeout) instead of applying the same migration.
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await db.execute_fetchall(f"SELECT version FROM {MIGRATIONS_TABLE}")
        todo = pending({int(row[0]) for row in rows}, migrations)
        for migration in todo:
            for statement in split_sqlite(migration.sqlite):
                await db.execute(statement)
            await db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_now_iso()),
            )
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    return [m.version for m in todo]


async def migrate_postgres(
    conn: asyncpg.Connection, schema: str, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Creates the schema if needed and applies the missing migrations, all in one transaction."""
    schema = check_schema_name(schema)
    async with conn.transaction():
        # Before CREATE SCHEMA: concurrent "IF NOT EXISTS" creations can still collide.
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, schema)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        # The migrations' unqualified names land in the schema, never in public.
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await conn.fetch(f"SELECT version FROM {MIGRATIONS_TABLE}")
        todo = pending({int(row["version"]) for row in rows}, migrations)
        for migration in todo:
            await conn.execute(migration.postgres)
            await conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                utc_now_iso(),
            )
    return [m.version for m in todo]
