"""Builds the workspace store for the configured backend."""

from __future__ import annotations

from pathlib import Path

from .base import WorkspaceStore

__all__ = ["SQLITE_FILE", "make_workspace_store"]

# Beside the session and engine stores' files, but its own: the stores never share a connection.
SQLITE_FILE = "workspace.sqlite3"


def make_workspace_store(
    database_url: str | None,
    data_dir: Path,
    *,
    pg_max_connections: int = 4,
    pg_schema: str = "atelier",
    sqlite_synchronous: str = "FULL",
    application_name: str = "atelier-workspace",
) -> WorkspaceStore:
    """Postgres when a database URL is given, else SQLite in ``data_dir``; not yet opened."""
    if database_url:
        from .postgres import PostgresWorkspaceStore

        return PostgresWorkspaceStore(
            database_url,
            schema=pg_schema,
            max_connections=pg_max_connections,
            application_name=application_name,
        )
    from .sqlite import SqliteWorkspaceStore

    return SqliteWorkspaceStore(data_dir / SQLITE_FILE, synchronous=sqlite_synchronous)
