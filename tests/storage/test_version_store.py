"""Versions in both stores, and the Bridge Postgres store's schema and migrations."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from storage import SessionRecord, Store, VersionRecord
from storage.bridge.migrations import MIGRATIONS_TABLE
from storage.bridge.postgres import PostgresStore

pytestmark = pytest.mark.integration


def _record(session_id: str) -> SessionRecord:
    return SessionRecord(session_id, "n", "d", 0, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")


def _version(session_id: str, vid: str, seq: int, kind: str = "auto") -> VersionRecord:
    return VersionRecord(
        session_id, vid, seq - 1, seq, f"2026-01-01T00:00:0{seq}.000Z", "agent:a", f"l{seq}", kind
    )


async def test_versions_are_saved_listed_loaded_and_deleted(store: Store) -> None:
    sid = f"s-{uuid.uuid4().hex[:10]}"
    await store.create_session(_record(sid), b"u1")
    assert await store.list_versions(sid) == []
    for seq, kind in ((3, "manual"), (2, "auto"), (4, "auto")):
        assert await store.save_version(_version(sid, f"v{seq}", seq, kind), f"state{seq}".encode())
    assert [v.id for v in await store.list_versions(sid)] == ["v2", "v3", "v4"]
    assert await store.load_version(sid, "v3") == (_version(sid, "v3", 3, "manual"), b"state3")
    assert await store.load_version(sid, "nope") is None
    assert await store.load_version("other", "v3") is None
    assert await store.delete_versions(sid, ["v2", "v4", "nope"]) == 2
    assert [v.id for v in await store.list_versions(sid)] == ["v3"]
    # A session that is gone keeps no versions and takes no new ones.
    assert await store.delete_session(sid)
    assert await store.list_versions(sid) == []
    assert not await store.save_version(_version(sid, "v9", 9), b"x")


async def test_postgres_tables_live_in_the_configured_schema(pg_url: str) -> None:
    schema = f"bridge_{uuid.uuid4().hex[:8]}"
    store = PostgresStore(pg_url, schema=schema)
    await store.open()
    try:
        await store.create_session(_record("in-schema"), b"u1")
    finally:
        await store.close()
    again = PostgresStore(pg_url, schema=schema)  # a second open finds nothing to migrate
    await again.open()
    try:
        assert await again.get_session("in-schema") == _record("in-schema")
    finally:
        await again.close()
    conn = await asyncpg.connect(pg_url)
    try:
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
            )
        }
        versions = [
            r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".{MIGRATIONS_TABLE}')
        ]
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()
    assert {"atelier_sessions", "atelier_updates", "atelier_snapshots", "atelier_versions"} <= tables
    assert sorted(versions) == [1, 2]


async def test_tables_of_the_default_schema_are_adopted_with_their_rows(pg_url: str) -> None:
    # A database created before the schema setting: the tables are in public.
    database = f"legacy_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    legacy_url = pg_url.rsplit("/", 1)[0] + f"/{database}"
    conn = await asyncpg.connect(legacy_url)
    try:
        await conn.execute("""
            CREATE TABLE atelier_sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
                revision BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE atelier_updates (session_id TEXT NOT NULL, seq BIGINT NOT NULL, data BYTEA NOT NULL,
                PRIMARY KEY (session_id, seq));
            CREATE TABLE atelier_snapshots (session_id TEXT PRIMARY KEY, seq BIGINT NOT NULL,
                data BYTEA NOT NULL);
            INSERT INTO atelier_sessions VALUES ('old', 'n', 'd', 0, '2026-01-01T00:00:00.000Z',
                '2026-01-01T00:00:00.000Z');
            INSERT INTO atelier_updates VALUES ('old', 1, 'u1');
        """)
        store = PostgresStore(legacy_url)
        await store.open()
        try:
            loaded = await store.load("old")
            assert loaded is not None
            assert loaded.updates == [(1, b"u1")]
        finally:
            await store.close()
        left_in_public = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name LIKE 'atelier_%'"
        )
        assert left_in_public == 0
    finally:
        await conn.close()
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(f'DROP DATABASE "{database}"')
        finally:
            await admin.close()
