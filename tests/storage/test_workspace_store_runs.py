"""The workspace store's runs, files and chunks, cascading deletes and the quota ledger,
against both backends (real SQLite file, real Postgres). The rest of the contract:
``test_workspace_store.py``, whose places and helpers these tests share."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from storage.workspace import (
    Conflict,
    FileStatus,
    IllegalTransition,
    MessageRole,
    NotFound,
    QuotaExceeded,
    QuotaReservation,
    ReservationState,
    RunInProgress,
    RunStatus,
    WorkspaceStore,
)

from .places import WorkspacePlace as Place
from .places import ts
from .test_workspace_store import (
    BOUND,
    file,
    message,
    project,
    reserve,
    run,
    with_session,
)

pytestmark = pytest.mark.integration

PLACE = Place


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
    assert failed is not None
    assert (failed.error, failed.finished_at) == ("worker died", ts(3))


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
    with pytest.raises(ValueError, match="a file becomes READY through put_chunks"):
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
    assert await store.get_run("r1") is None
    assert await store.get_run("r2") is None
    assert await store.get_file("f1") is None
    assert await store.get_chunks("f1", limit=10) == []
    assert await store.usage("alice", "2026-01") == 2
    reservation = await store.get_reservation("r1")
    assert reservation is not None
    assert reservation.state is ReservationState.RELEASED
    # The other project is untouched.
    assert await store.get_session("other") is not None
    assert await store.get_run("r3") is not None
    assert await store.get_file("f3") is not None
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
    assert await store.get_message("m1") is None
    assert await store.get_run("r1") is None
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
        assert len(admitted) == 5
        assert len(refused) == 15
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
