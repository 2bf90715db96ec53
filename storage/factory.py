"""Builds the configured store and bus from settings."""

from __future__ import annotations

from .bridge.base import Store
from .bus import Bus, InProcessBus
from .settings import StorageSettings

__all__ = ["make_bus", "make_store"]


def make_store(settings: StorageSettings) -> Store:
    if settings.database_url:
        from .bridge.postgres import PostgresStore

        return PostgresStore(
            settings.database_url,
            min_connections=settings.pg_min_connections,
            max_connections=settings.pg_max_connections,
            application_name=settings.pg_application_name,
            schema=settings.pg_schema,
        )
    from .bridge.sqlite import SqliteStore

    return SqliteStore(settings.data_dir / "atelier.sqlite3", synchronous=settings.sqlite_synchronous)


def make_bus(settings: StorageSettings) -> Bus:
    if settings.redis_url:
        from .redis_bus import RedisBus

        return RedisBus(settings.redis_url)
    return InProcessBus()
