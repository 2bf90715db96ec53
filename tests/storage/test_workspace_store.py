"""The workspace store contract, run against both backends (real SQLite file, real Postgres):
records, migrations, projects, sessions and messages. Runs, files, cascades and the quota
ledger: ``test_workspace_store_runs.py``; both use the places and helpers defined here."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storage.workspace import (
    Conflict,
    FileRecord,
    FileStatus,
    IllegalTransition,
    Message,
    MessageRole,
    NotFound,
    Project,
    QuotaExceeded,
    QuotaReservation,
    Run,
    RunInProgress,
    RunStatus,
    WorkspaceSession,
    WorkspaceStore,
    WorkspaceStoreError,
    make_workspace_store,
)
from storage.workspace.migrations import MIGRATIONS, MIGRATIONS_TABLE, Migration, pending
from storage.workspace.postgres import PostgresWorkspaceStore
from storage.workspace.sqlite import SqliteWorkspaceStore

from .places import WorkspacePlace as Place
from .places import ts

pytestmark = pytest.mark.integration

PLACE = Place

TABLES = {
    MIGRATIONS_TABLE,
    "workspace_projects",
    "workspace_sessions",
    "workspace_messages",
    "workspace_runs",
    "workspace_files",
    "workspace_file_chunks",
    "workspace_quota_usage",
    "workspace_quota_reservations",
}
# Every wait in these tests is bounded by this, far above what any step needs.
BOUND = 30.0


def project(pid: str = "p1", owner: str = "alice", created: int = 0, **changes: Any) -> Project:
    record = Project(
        id=pid,
        owner_id=owner,
        name=f"project {pid}",
        fiscal_year="2025",
        description="SR&ED claim",
        status="ACTIVE",
        created_at=ts(created),
        updated_at=ts(created),
    )
    return replace(record, **changes)


def session(sid: str = "s1", pid: str = "p1", created: int = 0, **changes: Any) -> WorkspaceSession:
    record = WorkspaceSession(sid, pid, "alice", "T661", f"title {sid}", "ACTIVE", ts(created), ts(created))
    return replace(record, **changes)


def message(
    mid: str, role: MessageRole, sid: str = "s1", second: int = 0, run_id: str | None = None
) -> Message:
    return Message(mid, sid, role, f"text of {mid} é", run_id, ts(second))


def run(rid: str = "r1", sid: str = "s1", **changes: Any) -> Run:
    record = Run(
        id=rid,
        session_id=sid,
        owner_id="alice",
        status=RunStatus.QUEUED,
        input="Draft the T661 for this project",
        type="T661",
        selected_file_ids=("f1", "f2"),
        created_at=ts(0),
    )
    return replace(record, **changes)


def file(fid: str = "f1", pid: str = "p1", created: int = 0, **changes: Any) -> FileRecord:
    record = FileRecord(
        id=fid,
        project_id=pid,
        owner_id="alice",
        name=f"{fid}.pdf",
        content_type="application/pdf",
        size=1234,
        object_key=f"projects/{pid}/files/{fid}",
        status=FileStatus.UPLOADED,
        created_at=ts(created),
        updated_at=ts(created),
    )
    return replace(record, **changes)


async def with_session(store: WorkspaceStore, pid: str = "p1", sid: str = "s1") -> WorkspaceSession:
    if await store.get_project(pid) is None:
        await store.create_project(project(pid))
    created = session(sid, pid)
    await store.create_session(created)
    return created


async def reserve(
    store: WorkspaceStore, run_id: str, *, user: str = "alice", period: str = "2026-01", limit: int = 5
) -> QuotaReservation | QuotaExceeded:
    return await store.reserve(
        user, period, limit, run_id, resets_at="2026-02-01T00:00:00.000Z", created_at=ts(1)
    )


# --- pure parts ---------------------------------------------------------------------------


def test_records_and_errors_pickle() -> None:
    values: list[object] = [
        project(github={"repository": "acme/widget", "token": "ghp_secret"}),
        session(),
        message("m1", MessageRole.USER),
        run(result={"status": "succeeded", "output": "ok"}),
        file(status=FileStatus.FAILED, reason="corrupt PDF"),
        QuotaExceeded(5, 5, "2026-02-01T00:00:00.000Z"),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value
    error = pickle.loads(pickle.dumps(RunInProgress("s1", "r1")))
    assert (error.session_id, error.run_id) == ("s1", "r1")
    assert isinstance(error, Conflict)
    moved = pickle.loads(pickle.dumps(IllegalTransition("run", "r1", "cancelled", "succeeded")))
    assert (moved.what, moved.record_id, moved.current, moved.target) == (
        "run",
        "r1",
        "cancelled",
        "succeeded",
    )


def test_github_access_is_never_shown() -> None:
    secret = project(github={"repository": "acme/widget", "token": "ghp_secret"})
    assert "ghp_secret" not in repr(secret)
    assert "ghp_secret" not in str(secret.to_json())
    assert secret.to_json()["githubConnected"] is True
    assert project().to_json()["githubConnected"] is False


def test_dtos_use_the_api_field_names() -> None:
    assert set(project().to_json()) == {
        "id",
        "name",
        "fiscalYear",
        "description",
        "status",
        "githubConnected",
        "createdAt",
        "updatedAt",
    }
    assert run().to_json()["runId"] == "r1"
    assert run().to_json()["selectedFileIds"] == ["f1", "f2"]
    assert file().to_json()["status"] == "UPLOADED"


def test_pending_migrations() -> None:
    first, second = Migration(1, "a", "", ""), Migration(2, "b", "", "")
    assert pending(set(), [first, second]) == [first, second]
    assert pending({1}, [first, second]) == [second]
    with pytest.raises(ValueError, match=r"strictly ascending: \[2, 1\]"):
        pending(set(), [second, first])


def test_factory_picks_the_backend(tmp_path: Path) -> None:
    sqlite_store = make_workspace_store(None, tmp_path, sqlite_synchronous="normal")
    assert isinstance(sqlite_store, SqliteWorkspaceStore)
    assert sqlite_store.path == tmp_path / "workspace.sqlite3"
    pg_store = make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema="ws")
    assert isinstance(pg_store, PostgresWorkspaceStore)
    assert pg_store.schema == "ws"
    assert isinstance(make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path), PostgresWorkspaceStore)
    with pytest.raises(ValueError, match="postgres schema name must match"):
        make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema='x"; DROP')
    with pytest.raises(ValueError, match="sqlite synchronous must be one of"):
        make_workspace_store(None, tmp_path, sqlite_synchronous="FULL; DROP")


# --- lifecycle and migrations -------------------------------------------------------------


async def test_a_closed_store_refuses_work(place: Place) -> None:
    store = place.store()
    with pytest.raises(WorkspaceStoreError):
        await store.get_project("p1")
    async with store:
        assert await store.get_project("p1") is None
    with pytest.raises(WorkspaceStoreError):
        await store.get_project("p1")


async def test_migrations_apply_once_across_concurrent_opens(place: Place) -> None:
    stores = [place.store() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await stores[0].create_project(project())
        assert await stores[3].get_project("p1") == project()
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert await place.applied_versions() == [m.version for m in MIGRATIONS]
    assert await place.tables() >= TABLES


async def test_a_failed_migration_leaves_the_schema_as_it_was(place: Place) -> None:
    broken = Migration(
        MIGRATIONS[-1].version + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;",
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;",
    )
    with pytest.raises(WorkspaceStoreError):
        await place.store([*MIGRATIONS, broken]).open()
    async with place.store() as store:
        await store.create_project(project())
    assert await place.applied_versions() == [m.version for m in MIGRATIONS]
    assert "half_done" not in await place.tables()


async def test_tables_live_in_their_own_place(place: Place) -> None:
    async with place.store():
        assert await place.tables() >= TABLES
    if place.pg_url is None:
        return  # SQLite: the workspace's own file, checked above
    in_public = await place.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name = ANY(?::text[])",
        sorted(TABLES),
    )
    assert in_public == []


# --- projects and sessions ----------------------------------------------------------------


async def test_projects_round_trip_listed_per_owner_newest_first(store: WorkspaceStore) -> None:
    github = {"repository": "acme/widget", "token": "ghp_secret", "scopes": ["repo"]}
    await store.create_project(project("p1", created=1, github=github))
    await store.create_project(project("p2", created=2))
    await store.create_project(project("p3", owner="bob", created=3))
    assert await store.get_project("p1") == project("p1", created=1, github=github)
    assert [p.id for p in await store.list_projects("alice", limit=10)] == ["p2", "p1"]
    assert [p.id for p in await store.list_projects("alice", limit=1, offset=1)] == ["p1"]
    assert await store.list_projects("carol", limit=10) == []
    with pytest.raises(Conflict):
        await store.create_project(project("p1"))
    with pytest.raises(ValueError, match=r"limit and offset must not be negative \(limit=-1, offset=0\)"):
        await store.list_projects("alice", limit=-1)


async def test_project_patch_is_partial(store: WorkspaceStore) -> None:
    await store.create_project(project())
    patched = await store.update_project("p1", updated_at=ts(9), status="ARCHIVED", fiscal_year="2026")
    assert patched == project(status="ARCHIVED", fiscal_year="2026", updated_at=ts(9))
    assert await store.get_project("p1") == patched
    renamed = await store.update_project("p1", updated_at=ts(10), name="Renamed", description="")
    assert (renamed.name, renamed.description, renamed.status) == ("Renamed", "", "ARCHIVED")
    with pytest.raises(NotFound):
        await store.update_project("nope", updated_at=ts(1), name="x")
    linked = await store.set_project_github("p1", {"repository": "a/b", "token": "t"}, updated_at=ts(11))
    assert linked.github == {"repository": "a/b", "token": "t"}
    unlinked = await store.set_project_github("p1", None, updated_at=ts(12))
    assert unlinked.github is None
    assert (await store.get_project("p1")) == unlinked


async def test_sessions_round_trip_and_patch(store: WorkspaceStore) -> None:
    await store.create_project(project())
    await store.create_session(session("s1", created=1))
    await store.create_session(session("s2", created=2, title=None, type="LOGBOOK"))
    assert await store.get_session("s2") == session("s2", created=2, title=None, type="LOGBOOK")
    assert [s.id for s in await store.list_sessions("p1", limit=10)] == ["s2", "s1"]
    titled = await store.update_session("s2", updated_at=ts(5), title="Logbook week 1")
    assert (titled.title, titled.status, titled.updated_at) == ("Logbook week 1", "ACTIVE", ts(5))
    closed = await store.update_session("s2", updated_at=ts(6), status="ARCHIVED")
    assert (closed.title, closed.status) == ("Logbook week 1", "ARCHIVED")
    with pytest.raises(NotFound):
        await store.update_session("nope", updated_at=ts(1), title="x")
    with pytest.raises(NotFound):
        await store.create_session(session("s3", pid="no-such-project"))
    with pytest.raises(Conflict):
        await store.create_session(session("s1"))


# --- messages and history -----------------------------------------------------------------


async def test_messages_take_consecutive_seqs_and_history_filters_roles(store: WorkspaceStore) -> None:
    await with_session(store)
    roles = [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.USER,
        MessageRole.SYSTEM,
        MessageRole.USER,
        MessageRole.ASSISTANT,
    ]
    appended = [
        await store.append_message(replace(message(f"m{i}", role, second=10 - i), seq=99))
        for i, role in enumerate(roles)
    ]
    # Timestamps run backwards on purpose: the order is the append order, not the clock's.
    assert [m.seq for m in appended] == [1, 2, 3, 4, 5, 6]
    assert await store.get_message("m3") == replace(message("m3", MessageRole.SYSTEM, second=7), seq=4)

    history = await store.history("s1", limit=50)
    assert [m.id for m in history] == ["m0", "m1", "m2", "m4", "m5"]
    assert all(m.role is not MessageRole.SYSTEM for m in history)
    # The newest `limit`, still oldest first.
    assert [m.id for m in await store.history("s1", limit=3)] == ["m2", "m4", "m5"]
    assert await store.history("s1", limit=0) == []
    # Every role is kept, and can be read in full.
    assert [m.id for m in await store.list_messages("s1", limit=100)] == [f"m{i}" for i in range(6)]
    assert [m.id for m in await store.list_messages("s1", after_seq=4, limit=1)] == ["m4"]


async def test_concurrent_appends_get_distinct_seqs(place: Place) -> None:
    stores = [place.store() for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await with_session(stores[0])

        async def append(n: int) -> Message:
            return await stores[n % 3].append_message(message(f"m{n}", MessageRole.USER))

        appended = await asyncio.wait_for(asyncio.gather(*(append(n) for n in range(24))), BOUND)
        assert sorted(m.seq for m in appended) == list(range(1, 25))
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_message_needs_its_session(store: WorkspaceStore) -> None:
    with pytest.raises(NotFound):
        await store.append_message(message("m1", MessageRole.USER, sid="nope"))
    await with_session(store)
    await store.append_message(message("m1", MessageRole.USER))
    with pytest.raises(Conflict):
        await store.append_message(message("m1", MessageRole.USER))
