"""Versioned schema migrations of the engine store, run by the shared runner
(``storage.sql.migrations``) on both backends.

``MIGRATIONS`` is append-only: a released migration is never edited, a change is a new
version. Applied versions are recorded in ``atelier_engine_migrations``; opening a store
applies what is missing, all in one transaction, so a failed migration leaves the schema
as it was. On Postgres the transaction first takes an advisory lock keyed by the schema:
gateways starting together queue on it, and each after the first finds nothing to do.
"""

from __future__ import annotations

import logging

from storage.sql.migrations import Migration, MigrationRunner, check_schema_name, split_sqlite

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "RUNNER",
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


RUNNER = MigrationRunner(MIGRATIONS_TABLE, _LOCK_CLASS, "engine", log, MIGRATIONS)
pending = RUNNER.pending
migrate_sqlite = RUNNER.migrate_sqlite
migrate_postgres = RUNNER.migrate_postgres
