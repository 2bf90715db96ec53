"""The engine store's records' pickling, its migrations and its opening and closing, against
both backends (real SQLite file, real Postgres). The store contract's records:
``test_engine_store.py``, whose places and helpers these tests share."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.engine import (
    MIGRATIONS,
    Design,
    EngineStoreError,
    LifecycleState,
    Migration,
    ProgramMember,
    StaleRevision,
    make_engine_store,
)
from storage.engine.migrations import pending, split_sqlite
from storage.engine.postgres import PostgresEngineStore
from storage.engine.sqlite import SqliteEngineStore

from .places import EnginePlace as Place
from .places import new_place, ts
from .test_engine_store import DOC, ENGINE_TABLES, event, program, session, with_program

pytestmark = pytest.mark.integration

PLACE = Place


@pytest.fixture
async def pg_place(pg_url: str, tmp_path: Path) -> AsyncIterator[Place]:
    async with new_place(Place, "postgres", pg_url, tmp_path) as spot:
        yield spot


# --- pure parts ---------------------------------------------------------------------------


def test_records_and_errors_pickle() -> None:
    values: list[object] = [
        program("p1", "alice"),
        ProgramMember("p1", "bob", "editor"),
        Design("d1", "p1", "Kart", LifecycleState.RELEASED, ts(1), ts(2)),
        session("s1", pending_run={"runId": "r1", "action": "start_bom"}),
        session("s2", doc=DOC),
        event("s1", 7),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value
    error = pickle.loads(pickle.dumps(StaleRevision("s1", 2, 3)))
    assert (error.session_id, error.expected, error.actual) == ("s1", 2, 3)
    assert isinstance(error, EngineStoreError)


def test_pending_migrations() -> None:
    first, second = Migration(1, "a", "", ""), Migration(2, "b", "", "")
    assert pending(set(), [first, second]) == [first, second]
    assert pending({1}, [first, second]) == [second]
    assert pending({1, 2, 3}, [first, second]) == []
    with pytest.raises(ValueError, match=r"strictly ascending: \[2, 1\]"):
        pending(set(), [second, first])
    with pytest.raises(ValueError, match=r"strictly ascending: \[1, 1\]"):
        pending(set(), [first, first])


def test_split_sqlite_keeps_semicolons_inside_literals() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT 'x;y');\n\nINSERT INTO a VALUES ('1;2');\n"
    assert split_sqlite(script) == [
        "CREATE TABLE a (x TEXT DEFAULT 'x;y');",
        "INSERT INTO a VALUES ('1;2');",
    ]
    with pytest.raises(ValueError, match="unterminated SQL statement"):
        split_sqlite("SELECT 'unterminated")


def test_factory_picks_the_backend(tmp_path: Path) -> None:
    sqlite_store = make_engine_store(None, tmp_path, sqlite_synchronous="normal")
    assert isinstance(sqlite_store, SqliteEngineStore)
    assert sqlite_store.path == tmp_path / "engine.sqlite3"
    pg_store = make_engine_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema="plm")
    assert isinstance(pg_store, PostgresEngineStore)
    assert pg_store.schema == "plm"
    with pytest.raises(ValueError, match="postgres schema name must match"):
        make_engine_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema='x"; DROP')
    with pytest.raises(ValueError, match="sqlite synchronous must be one of"):
        make_engine_store(None, tmp_path, sqlite_synchronous="FULL; DROP")


# --- lifecycle and migrations -------------------------------------------------------------


async def test_a_closed_store_refuses_work(place: Place) -> None:
    store = place.store()
    with pytest.raises(EngineStoreError):
        await store.get_program("p1")
    async with store:
        assert await store.get_program("p1") is None
    with pytest.raises(EngineStoreError):
        await store.get_program("p1")


async def test_migrations_apply_once_across_reopens(place: Place) -> None:
    async with place.store() as first:
        await with_program(first)
    async with place.store() as second:
        assert await second.get_program("p1") == program("p1", "alice")
    assert await place.applied_versions() == [m.version for m in MIGRATIONS]
    assert await place.tables() >= ENGINE_TABLES


async def test_concurrent_opens_migrate_once(place: Place) -> None:
    stores = [place.store() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await stores[0].create_program(program("p1", "alice"))
        assert await stores[3].get_program("p1") == program("p1", "alice")
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert await place.applied_versions() == [m.version for m in MIGRATIONS]


async def test_a_failed_migration_leaves_the_schema_as_it_was(place: Place) -> None:
    broken = Migration(
        MIGRATIONS[-1].version + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;",
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;",
    )
    with pytest.raises(EngineStoreError):
        await place.store([*MIGRATIONS, broken]).open()
    async with place.store() as store:
        await with_program(store)
    assert await place.applied_versions() == [m.version for m in MIGRATIONS]
    assert "half_done" not in await place.tables()


async def test_migrating_a_version_1_store_keeps_its_sessions_without_a_doc(
    place: Place,
) -> None:
    v1 = [m for m in MIGRATIONS if m.version == 1]
    async with place.store(v1) as old:
        await with_program(old)
    # Written as a version-1 build writes it: that build knows no doc column.
    await place.query(
        "INSERT INTO design_sessions (id, user_id, program_id, design_id, ai_chat_session_id, "
        "title, stage, status, artifacts, pending_run, created_at, updated_at, revision) "
        "VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?, NULL, ?, ?, ?)",
        "s1",
        "alice",
        "p1",
        "title s1",
        "idle",
        "active",
        '{"description": "Design an electric go-kart", "requirements": [], "bom": null}',
        ts(0),
        ts(0),
        0,
    )
    assert await place.applied_versions() == [1]
    assert "doc" not in await place.columns("design_sessions")

    async with place.store() as store:
        assert await place.applied_versions() == [m.version for m in MIGRATIONS]
        assert "doc" in await place.columns("design_sessions")
        assert await store.get_session("s1") == session("s1")
        assert await store.list_sessions("alice", limit=10) == [session("s1")]
        saved = await store.save_session(session("s1", doc=DOC), expected_revision=0)
        assert saved == session("s1", doc=DOC, revision=1)
        assert await store.get_session("s1") == saved


async def test_postgres_tables_live_in_their_schema(pg_place: Place) -> None:
    async with pg_place.store():
        assert await pg_place.tables() >= ENGINE_TABLES
        names = await pg_place.query("SELECT application_name FROM pg_stat_activity")
        assert ("atelier-engine-test",) in names
    in_public = await pg_place.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name = ANY(?::text[])",
        sorted(ENGINE_TABLES),
    )
    assert in_public == []
