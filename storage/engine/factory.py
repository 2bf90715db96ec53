"""Builds the engine store for the configured backend."""

from __future__ import annotations

from pathlib import Path

from .base import EngineStore

__all__ = ["SQLITE_FILE", "make_engine_store"]

# Beside the session store's file, but its own: the two stores never share a connection.
SQLITE_FILE = "engine.sqlite3"


def make_engine_store(
    database_url: str | None,
    data_dir: Path,
    *,
    pg_max_connections: int = 4,
    pg_schema: str = "atelier",
    sqlite_synchronous: str = "FULL",
    application_name: str = "atelier-engine",
) -> EngineStore:
    """Postgres when a database URL is given, else SQLite in ``data_dir``; not yet opened."""
    if database_url:
        from .postgres import PostgresEngineStore

        return PostgresEngineStore(
            database_url,
            schema=pg_schema,
            max_connections=pg_max_connections,
            application_name=application_name,
        )
    from .sqlite import SqliteEngineStore

    return SqliteEngineStore(data_dir / SQLITE_FILE, synchronous=sqlite_synchronous)
