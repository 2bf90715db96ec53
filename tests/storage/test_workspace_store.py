"""The workspace store contract, run against both backends (real SQLite file, real Postgres)."""

from __future__ import annotations

import asyncio
import pickle
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
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
    ReservationState,
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

pytestmark = pytest.mark.integration

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


def ts(second: int) -> str:
    return f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}.000Z"


@dataclass
class Place:
    """Where one test's stores live: a fresh SQLite directory or a fresh Postgres schema."""

    kind: str
    data_dir: Path
    pg_url: str | None
    schema: str

    def store(self, migrations: Sequence[Migration] = MIGRATIONS) -> WorkspaceStore:
        if self.pg_url is None:
            return SqliteWorkspaceStore(self.data_dir / "workspace.sqlite3", migrations=migrations)
        return PostgresWorkspaceStore(
            self.pg_url,
            schema=self.schema,
            max_connections=4,
            application_name="atelier-workspace-test",
            migrations=migrations,
        )

    async def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Raw SQL beside the store (``?`` placeholders), committed."""
        if self.pg_url is None:
            async with aiosqlite.connect(self.data_dir / "workspace.sqlite3") as db:
                rows = [tuple(row) for row in await db.execute_fetchall(sql, args)]
                await db.commit()
                return rows
        for n in range(len(args)):
            sql = sql.replace("?", f"${n + 1}", 1)
        conn = await asyncpg.connect(self.pg_url, server_settings={"search_path": self.schema})
        try:
            return [tuple(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    async def tables(self) -> set[str]:
        if self.pg_url is None:
            rows = await self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = await self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", self.schema
            )
        return {str(row[0]) for row in rows}

    async def applied_versions(self) -> list[int]:
        rows = await self.query(f"SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version")
        return [int(row[0]) for row in rows]


@asynccontextmanager
async def new_place(kind: str, pg_url: str | None, data_dir: Path) -> AsyncIterator[Place]:
    spot = Place(kind, data_dir, pg_url, f"workspace_test_{uuid.uuid4().hex[:12]}")
    try:
        yield spot
    finally:
        if pg_url is not None:
            conn = await asyncpg.connect(pg_url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{spot.schema}" CASCADE')
            finally:
                await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def place(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Place]:
    pg_url: str | None = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    async with new_place(request.param, pg_url, tmp_path) as spot:
        yield spot


@pytest.fixture
async def store(place: Place) -> AsyncIterator[WorkspaceStore]:
    async with place.store() as opened:
        yield opened


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
    assert (error.session_id, error.run_id) == ("s1", "r1") and isinstance(error, Conflict)
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
    with pytest.raises(ValueError):
        pending(set(), [second, first])


def test_factory_picks_the_backend(tmp_path: Path) -> None:
    sqlite_store = make_workspace_store(None, tmp_path, sqlite_synchronous="normal")
    assert isinstance(sqlite_store, SqliteWorkspaceStore)
    assert sqlite_store.path == tmp_path / "workspace.sqlite3"
    pg_store = make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema="ws")
    assert isinstance(pg_store, PostgresWorkspaceStore) and pg_store.schema == "ws"
    assert isinstance(make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path), PostgresWorkspaceStore)
    with pytest.raises(ValueError):
        make_workspace_store("postgresql://x@127.0.0.1/db", tmp_path, pg_schema='x"; DROP')
    with pytest.raises(ValueError):
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
    assert TABLES <= await place.tables()


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
        assert TABLES <= await place.tables()
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
    with pytest.raises(ValueError):
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
    assert unlinked.github is None and (await store.get_project("p1")) == unlinked


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


# --- runs ---------------------------------------------------------------------------------


async def test_run_lifecycle_with_timings(store: WorkspaceStore) -> None:
    await with_session(store)
    await store.create_run(run())
    assert await store.get_run("r1") == run()
    assert await store.running_run("s1") == run()

    started = await store.update_run("r1", RunStatus.RUNNING, at=ts(2))
    assert (started.status, started.started_at, started.finished_at) == (RunStatus.RUNNING, ts(2), None)
    result = {"status": "succeeded", "output": "Draft…", "files_read": [{"id": "f1"}], "usage": None}
    done = await store.update_run("r1", RunStatus.SUCCEEDED, at=ts(7), result=result)
    assert done == replace(
        run(), status=RunStatus.SUCCEEDED, started_at=ts(2), finished_at=ts(7), result=result
    )
    assert await store.get_run("r1") == done
    assert await store.running_run("s1") is None

    # Finished runs never change: the later of cancel and finish is told, not applied.
    with pytest.raises(IllegalTransition) as refused:
        await store.update_run("r1", RunStatus.CANCELLED, at=ts(8))
    assert (refused.value.current, refused.value.target) == ("succeeded", "cancelled")
    with pytest.raises(NotFound):
        await store.update_run("nope", RunStatus.RUNNING, at=ts(1))


async def test_one_active_run_per_session(store: WorkspaceStore) -> None:
    await with_session(store)
    await with_session(store, sid="s2")
    await store.create_run(run("r1"))
    with pytest.raises(RunInProgress) as busy:
        await store.create_run(run("r2"))
    assert (busy.value.session_id, busy.value.run_id) == ("s1", "r1")
    await store.create_run(run("r3", sid="s2"))  # another session is not affected
    await store.update_run("r1", RunStatus.FAILED, at=ts(3), error="worker died")
    await store.create_run(run("r2"))
    assert (await store.running_run("s1")) == run("r2")
    failed = await store.get_run("r1")
    assert failed is not None and (failed.error, failed.finished_at) == ("worker died", ts(3))


async def test_concurrent_run_creation_admits_one(place: Place) -> None:
    stores = [place.store() for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await with_session(stores[0])
        outcomes = await asyncio.wait_for(
            asyncio.gather(
                *(stores[n % 3].create_run(run(f"r{n}")) for n in range(9)), return_exceptions=True
            ),
            BOUND,
        )
        assert sum(outcome is None for outcome in outcomes) == 1
        assert all(isinstance(o, RunInProgress) for o in outcomes if o is not None)
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_unfinished_runs_for_the_sweeper(store: WorkspaceStore) -> None:
    await with_session(store)
    await with_session(store, sid="s2")
    await with_session(store, sid="s3")
    await store.create_run(run("old", created_at=ts(1)))
    await store.create_run(run("new", sid="s2", created_at=ts(50)))
    await store.create_run(run("done", sid="s3", created_at=ts(2)))
    await store.update_run("done", RunStatus.CANCELLED, at=ts(3))
    assert [r.id for r in await store.unfinished_runs(ts(10))] == ["old"]


# --- files and chunks ---------------------------------------------------------------------


async def test_file_indexing_lifecycle(store: WorkspaceStore) -> None:
    await store.create_project(project())
    await store.create_file(file("f1", created=1))
    await store.create_file(file("f2", created=2, content_type="text/csv"))
    assert await store.get_file("f1") == file("f1", created=1)
    assert [f.id for f in await store.list_files("p1", limit=10)] == ["f2", "f1"]
    assert {f.id for f in await store.get_files(["f2", "nope", "f1", "f2"])} == {"f1", "f2"}
    assert await store.get_files([]) == []

    indexing = await store.set_file_status("f1", FileStatus.INDEXING, updated_at=ts(3))
    assert (indexing.status, indexing.indexing_started_at) == (FileStatus.INDEXING, ts(3))
    chunks = ["first chunk é", "second chunk", "third"]
    ready = await store.put_chunks("f1", chunks, updated_at=ts(4))
    assert (ready.status, ready.chunks_count, ready.reason) == (FileStatus.READY, 3, None)
    read = await store.get_chunks("f1", limit=10)
    assert [(c.file_id, c.index, c.text) for c in read] == [("f1", i, t) for i, t in enumerate(chunks)]
    assert [c.index for c in await store.get_chunks("f1", offset=1, limit=1)] == [1]

    # READY only through put_chunks, and only from INDEXING.
    with pytest.raises(ValueError):
        await store.set_file_status("f2", FileStatus.READY, updated_at=ts(5))
    with pytest.raises(IllegalTransition):
        await store.put_chunks("f2", ["x"], updated_at=ts(5))
    failed = await store.set_file_status("f2", FileStatus.FAILED, updated_at=ts(5), reason="not a CSV")
    assert (failed.status, failed.reason) == (FileStatus.FAILED, "not a CSV")
    with pytest.raises(IllegalTransition):
        await store.set_file_status("f2", FileStatus.UPLOADED, updated_at=ts(6))

    # Indexing again drops the old chunks until the new ones are put.
    again = await store.set_file_status("f1", FileStatus.INDEXING, updated_at=ts(7))
    assert (again.chunks_count, again.indexing_started_at) == (0, ts(7))
    assert await store.get_chunks("f1", limit=10) == []
    with pytest.raises(NotFound):
        await store.set_file_status("nope", FileStatus.INDEXING, updated_at=ts(1))
    with pytest.raises(NotFound):
        await store.create_file(file("f9", pid="no-such-project"))

    assert await store.delete_file("f1") == "projects/p1/files/f1"
    assert await store.delete_file("f1") is None
    assert await store.get_file("f1") is None
    assert await store.get_chunks("f1", limit=10) == []


async def test_stale_indexing_and_the_sweeper_race(store: WorkspaceStore) -> None:
    await store.create_project(project())
    for fid in ("stuck", "fresh", "idle"):
        await store.create_file(file(fid))
    await store.set_file_status("stuck", FileStatus.INDEXING, updated_at=ts(1))
    await store.set_file_status("fresh", FileStatus.INDEXING, updated_at=ts(100))
    stale = await store.stale_indexing(ts(60))
    assert [f.id for f in stale] == ["stuck"]

    swept = await store.set_file_status("stuck", FileStatus.FAILED, updated_at=ts(61), reason="timed out")
    assert (swept.status, swept.reason) == (FileStatus.FAILED, "timed out")
    # The indexing task finishing late cannot undo the sweeper's verdict...
    with pytest.raises(IllegalTransition) as late:
        await store.put_chunks("stuck", ["late"], updated_at=ts(62))
    assert (late.value.current, late.value.target) == ("FAILED", "READY")
    # ...nor can a sweeper fail a file that became READY meanwhile.
    await store.put_chunks("fresh", ["ok"], updated_at=ts(101))
    with pytest.raises(IllegalTransition):
        await store.set_file_status("fresh", FileStatus.FAILED, updated_at=ts(102), reason="timed out")
    assert await store.stale_indexing(ts(1000)) == []


# --- cascades -----------------------------------------------------------------------------


async def test_deleting_a_project_takes_everything_and_returns_object_keys(
    store: WorkspaceStore, place: Place
) -> None:
    await with_session(store, "p1", "s1")
    await with_session(store, "p1", "s2")
    await with_session(store, "p2", "other")
    await store.append_message(message("m1", MessageRole.USER))
    await store.append_message(message("m2", MessageRole.ASSISTANT, sid="s2"))
    await store.create_run(run("r1"))
    await store.create_run(run("r2", sid="s2"))
    await store.create_run(run("r3", sid="other"))
    await store.create_file(file("f1", created=1))
    await store.create_file(file("f2", created=2))
    await store.create_file(file("f3", pid="p2"))
    await store.set_file_status("f1", FileStatus.INDEXING, updated_at=ts(1))
    await store.put_chunks("f1", ["a", "b"], updated_at=ts(2))
    # r1 still holds a reserved unit, r2's was confirmed: only r1's comes back.
    await reserve(store, "r1")
    await reserve(store, "r2")
    await store.confirm("r2", updated_at=ts(3))
    await reserve(store, "r3")
    assert await store.usage("alice", "2026-01") == 3

    keys = await store.delete_project("p1")
    assert keys == ["projects/p1/files/f1", "projects/p1/files/f2"]
    assert await store.get_project("p1") is None
    for sid in ("s1", "s2"):
        assert await store.get_session(sid) is None
        assert await store.list_messages(sid, limit=10) == []
    assert await store.get_run("r1") is None and await store.get_run("r2") is None
    assert await store.get_file("f1") is None and await store.get_chunks("f1", limit=10) == []
    assert await store.usage("alice", "2026-01") == 2
    reservation = await store.get_reservation("r1")
    assert reservation is not None and reservation.state is ReservationState.RELEASED
    # The other project is untouched.
    assert await store.get_session("other") is not None
    assert await store.get_run("r3") is not None and await store.get_file("f3") is not None
    assert await store.delete_project("p1") is None
    leftovers = await place.query("SELECT count(*) FROM workspace_file_chunks")
    assert leftovers == [(0,)]


async def test_deleting_a_session_takes_its_messages_and_runs(store: WorkspaceStore) -> None:
    await with_session(store, "p1", "s1")
    await with_session(store, "p1", "s2")
    await store.append_message(message("m1", MessageRole.USER))
    await store.append_message(message("m2", MessageRole.USER, sid="s2"))
    await store.create_run(run("r1"))
    await reserve(store, "r1")
    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.get_message("m1") is None and await store.get_run("r1") is None
    assert await store.get_message("m2") is not None
    assert await store.usage("alice", "2026-01") == 0
    assert await store.get_project("p1") is not None


# --- the quota ledger ---------------------------------------------------------------------


async def test_reserve_confirm_release(store: WorkspaceStore) -> None:
    first = await reserve(store, "r1", limit=2)
    assert first == QuotaReservation("r1", "alice", "2026-01", ReservationState.RESERVED, ts(1), ts(1))
    assert isinstance(await reserve(store, "r2", limit=2), QuotaReservation)
    exceeded = await reserve(store, "r3", limit=2)
    assert exceeded == QuotaExceeded(2, 2, "2026-02-01T00:00:00.000Z")
    # Other users and other periods have their own counts.
    assert isinstance(await reserve(store, "r4", user="bob", limit=2), QuotaReservation)
    assert isinstance(await reserve(store, "r5", period="2026-02", limit=2), QuotaReservation)

    confirmed = await store.confirm("r1", updated_at=ts(5))
    assert (confirmed.state, confirmed.updated_at) == (ReservationState.CONFIRMED, ts(5))
    assert (await store.confirm("r1", updated_at=ts(6))).state is ReservationState.CONFIRMED
    assert await store.release("r1", updated_at=ts(6)) is False  # a confirmed run is not refunded
    assert await store.usage("alice", "2026-01") == 2

    assert await store.release("r2", updated_at=ts(7)) is True
    assert await store.release("r2", updated_at=ts(8)) is False  # idempotent
    assert await store.usage("alice", "2026-01") == 1
    with pytest.raises(IllegalTransition):
        await store.confirm("r2", updated_at=ts(9))
    with pytest.raises(NotFound):
        await store.confirm("nope", updated_at=ts(9))
    assert await store.release("nope", updated_at=ts(9)) is False

    # The released unit is free again; a run id reserves once.
    assert isinstance(await reserve(store, "r3", limit=2), QuotaReservation)
    with pytest.raises(Conflict):
        await reserve(store, "r3", limit=5)
    assert await store.usage("alice", "2026-01") == 2
    assert await store.usage("carol", "2026-01") == 0


async def test_a_zero_limit_admits_nothing(store: WorkspaceStore) -> None:
    assert await reserve(store, "r1", limit=0) == QuotaExceeded(0, 0, "2026-02-01T00:00:00.000Z")
    assert await store.usage("alice", "2026-01") == 0
    assert await store.get_reservation("r1") is None


async def test_twenty_concurrent_reserves_against_five_admit_exactly_five(place: Place) -> None:
    # Several stores: on SQLite separate connections to one file, on Postgres separate pools,
    # so the ledger's atomicity is the database's, not one store's lock.
    stores = [place.store() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(reserve(stores[n % 4], f"r{n}", limit=5) for n in range(20))), BOUND
        )
        admitted = [o for o in outcomes if isinstance(o, QuotaReservation)]
        refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
        assert len(admitted) == 5 and len(refused) == 15
        assert all(o.limit == 5 and o.used == 5 for o in refused)
        assert await stores[0].usage("alice", "2026-01") == 5

        # Releasing in parallel gives every unit back exactly once.
        released = await asyncio.gather(
            *(stores[n % 4].release(r.run_id, updated_at=ts(9)) for n, r in enumerate(admitted * 2))
        )
        assert sum(released) == 5
        assert await stores[1].usage("alice", "2026-01") == 0
    finally:
        await asyncio.gather(*(s.close() for s in stores))
