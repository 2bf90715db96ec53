"""Storage settings: which store and bus, and their limits. Built once at the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .objects import S3Settings

__all__ = ["StorageSettings"]


@dataclass(frozen=True, slots=True)
class StorageSettings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("./atelier-data")
    pg_min_connections: int = 1
    pg_max_connections: int = 8
    pg_application_name: str = "atelier"
    pg_schema: str = "atelier"
    sqlite_synchronous: str = "FULL"
    group_commit_max_rows: int = 4096
    engine_pg_max_connections: int = 4
    engine_pg_schema: str = "atelier"
    objects_url: str | None = None  # s3://bucket/prefix or file:///path; None: <data_dir>/objects
    # The object store's size bound (local and S3) and the S3 client's connection settings.
    objects: S3Settings = field(default_factory=S3Settings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StorageSettings:
        default = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("ATELIER_DATA_DIR", str(default.data_dir))),
            pg_min_connections=int(env.get("ATELIER_PG_MIN_CONNECTIONS", default.pg_min_connections)),
            pg_max_connections=int(env.get("ATELIER_PG_MAX_CONNECTIONS", default.pg_max_connections)),
            pg_application_name=env.get("ATELIER_PG_APPLICATION_NAME", default.pg_application_name),
            pg_schema=env.get("ATELIER_PG_SCHEMA", default.pg_schema),
            sqlite_synchronous=env.get("ATELIER_SQLITE_SYNCHRONOUS", default.sqlite_synchronous),
            group_commit_max_rows=int(
                env.get("ATELIER_GROUP_COMMIT_MAX_ROWS", default.group_commit_max_rows)
            ),
            engine_pg_max_connections=int(
                env.get("ATELIER_ENGINE_PG_MAX_CONNECTIONS", default.engine_pg_max_connections)
            ),
            engine_pg_schema=env.get("ATELIER_ENGINE_PG_SCHEMA", default.engine_pg_schema),
            objects_url=env.get("ATELIER_OBJECTS_URL") or None,
            objects=S3Settings.from_env(env),
        )

    @property
    def store_kind(self) -> str:
        return "postgres" if self.database_url else "sqlite"
