"""Versioned schema migrations of the workspace store, run by the shared runner
(``storage.sql.migrations``) on both backends.

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

from storage.sql.migrations import Migration, MigrationRunner

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "RUNNER",
    "Migration",
    "migrate_postgres",
    "migrate_sqlite",
    "pending",
]

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "atelier_workspace_migrations"

# The class half of the two-key advisory lock; the schema's hash is the other half.
_LOCK_CLASS = 0x6177_7370  # "awsp"

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


RUNNER = MigrationRunner(MIGRATIONS_TABLE, _LOCK_CLASS, "workspace", log, MIGRATIONS)
pending = RUNNER.pending
migrate_sqlite = RUNNER.migrate_sqlite
migrate_postgres = RUNNER.migrate_postgres
