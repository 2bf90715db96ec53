"""Versioned schema migrations of the engine store, and their runners for both backends.

``MIGRATIONS`` is append-only: a released migration is never edited, a change is a new
version. Applied versions are recorded in ``atelier_engine_migrations``; opening a store
applies what is missing, all in one transaction, so a failed migration leaves the schema
as it was. On Postgres the transaction first takes an advisory lock keyed by the schema:
gateways starting together queue on it, and each after the first finds nothing to do.
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

MIGRATIONS_TABLE = "atelier_engine_migrations"

# The class half of the two-key advisory lock; the schema's hash is the other half.
_LOCK_CLASS = 0x61656E67  # "aeng"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Migration(NamedTuple):
    version: int
    name: str
    sqlite: str
    postgres: str


_V1_SQLITE = """
CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX programs_owner ON programs (owner_id);
CREATE TABLE program_members (
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (program_id, user_id)
) WITHOUT ROWID;
CREATE INDEX program_members_user ON program_members (user_id);
CREATE TABLE designs (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    lifecycle_state TEXT NOT NULL CHECK (lifecycle_state IN ('draft', 'released')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX designs_program ON designs (program_id, created_at DESC, id);
CREATE TABLE design_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs (id),
    design_id TEXT REFERENCES designs (id) ON DELETE SET NULL,
    ai_chat_session_id TEXT,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    artifacts TEXT NOT NULL,
    pending_run TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE INDEX design_sessions_user ON design_sessions (user_id, created_at DESC, id);
CREATE TABLE design_session_events (
    session_id TEXT NOT NULL REFERENCES design_sessions (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, event_id)
) WITHOUT ROWID;
"""

_V1_POSTGRES = """
CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX programs_owner ON programs (owner_id);
CREATE TABLE program_members (
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (program_id, user_id)
);
CREATE INDEX program_members_user ON program_members (user_id);
CREATE TABLE designs (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    lifecycle_state TEXT NOT NULL CHECK (lifecycle_state IN ('draft', 'released')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX designs_program ON designs (program_id, created_at DESC, id);
CREATE TABLE design_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs (id),
    design_id TEXT REFERENCES designs (id) ON DELETE SET NULL,
    ai_chat_session_id TEXT,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    artifacts JSONB NOT NULL,
    pending_run JSONB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision BIGINT NOT NULL
);
CREATE INDEX design_sessions_user ON design_sessions (user_id, created_at DESC, id);
CREATE TABLE design_session_events (
    session_id TEXT NOT NULL REFERENCES design_sessions (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    run_id TEXT NOT NULL,
    data BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, event_id)
);
"""

# Nullable: sessions saved before it have no document yet.
_V2_SQLITE = "ALTER TABLE design_sessions ADD COLUMN doc BLOB;"
_V2_POSTGRES = "ALTER TABLE design_sessions ADD COLUMN doc BYTEA;"

# PLM records. Item numbers come from counter rows, not Postgres sequences: a counter row
# updated inside the materialization is rolled back with it, so numbers have no gaps, and
# concurrent materializations queue on the row instead of drawing the same number. The
# starting values are the series' first numbers: P-1001, REQ-0001, ECO-0001.
_V3_SQLITE = """
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('part', 'requirement')),
    item_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name_key TEXT NOT NULL,
    UNIQUE (kind, seq)
);
CREATE INDEX items_owner ON items (owner_id, kind, seq);
CREATE INDEX items_program ON items (program_id);
CREATE TABLE requirement_links (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    requirement_item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, requirement_item_id)
) WITHOUT ROWID;
CREATE INDEX requirement_links_requirement ON requirement_links (requirement_item_id);
CREATE TABLE bom_lines (
    id TEXT PRIMARY KEY,
    design_id TEXT NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    parent_item_id TEXT REFERENCES items (id) ON DELETE CASCADE,
    child_item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    position INTEGER NOT NULL CHECK (position >= 0)
);
CREATE INDEX bom_lines_design ON bom_lines (design_id, position);
CREATE INDEX bom_lines_parent ON bom_lines (parent_item_id);
CREATE INDEX bom_lines_child ON bom_lines (child_item_id);
CREATE TABLE ecos (
    id TEXT PRIMARY KEY,
    eco_number TEXT NOT NULL UNIQUE,
    design_id TEXT NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    title TEXT NOT NULL,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ecos_design ON ecos (design_id, created_at);
CREATE TABLE number_sequences (
    series TEXT PRIMARY KEY,
    next_value INTEGER NOT NULL CHECK (next_value > 0)
) WITHOUT ROWID;
INSERT INTO number_sequences (series, next_value) VALUES ('part', 1001), ('requirement', 1), ('eco', 1);
"""

_V3_POSTGRES = """
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('part', 'requirement')),
    item_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    attributes JSONB NOT NULL,
    created_at TEXT NOT NULL,
    seq BIGINT NOT NULL,
    name_key TEXT NOT NULL,
    UNIQUE (kind, seq)
);
CREATE INDEX items_owner ON items (owner_id, kind, seq);
CREATE INDEX items_program ON items (program_id);
CREATE TABLE requirement_links (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    requirement_item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, requirement_item_id)
);
CREATE INDEX requirement_links_requirement ON requirement_links (requirement_item_id);
CREATE TABLE bom_lines (
    id TEXT PRIMARY KEY,
    design_id TEXT NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    parent_item_id TEXT REFERENCES items (id) ON DELETE CASCADE,
    child_item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    position BIGINT NOT NULL CHECK (position >= 0)
);
CREATE INDEX bom_lines_design ON bom_lines (design_id, position);
CREATE INDEX bom_lines_parent ON bom_lines (parent_item_id);
CREATE INDEX bom_lines_child ON bom_lines (child_item_id);
CREATE TABLE ecos (
    id TEXT PRIMARY KEY,
    eco_number TEXT NOT NULL UNIQUE,
    design_id TEXT NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    title TEXT NOT NULL,
    changes JSONB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ecos_design ON ecos (design_id, created_at);
CREATE TABLE number_sequences (
    series TEXT PRIMARY KEY,
    next_value BIGINT NOT NULL CHECK (next_value > 0)
);
INSERT INTO number_sequences (series, next_value) VALUES ('part', 1001), ('requirement', 1), ('eco', 1);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "programs, designs, design sessions and their event logs", _V1_SQLITE, _V1_POSTGRES),
    Migration(2, "the Yjs document of a design session", _V2_SQLITE, _V2_POSTGRES),
    Migration(
        3, "PLM items, BOM lines, requirement links, ECOs and their number series", _V3_SQLITE, _V3_POSTGRES
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
        log.warning("engine schema has versions this build does not know: %s", newer)
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


async def migrate_sqlite(
    db: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
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
