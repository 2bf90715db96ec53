"""One contract, two stores: SQLite and Postgres must behave identically."""

from __future__ import annotations

import asyncio

import pytest

from storage import Append, SessionRecord, Store, StoreError

pytestmark = pytest.mark.integration


def _record(session_id: str, created: str = "2026-01-01T00:00:00.000Z") -> SessionRecord:
    return SessionRecord(session_id, f"name {session_id}", "desc", 0, created, created)


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_create_get_load(store: Store) -> None:
    sid = _unique("s")
    await store.create_session(_record(sid), b"initial")
    assert await store.get_session(sid) == _record(sid)
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.record == _record(sid)
    assert loaded.snapshot is None
    assert loaded.snapshot_seq == 0
    assert loaded.updates == [(1, b"initial")]
    assert loaded.last_seq == 1
    assert await store.get_session(_unique("missing")) is None
    assert await store.load(_unique("missing")) is None


async def test_append_advances_revision_and_keeps_order(store: Store) -> None:
    sid = _unique("s")
    await store.create_session(_record(sid), b"u1")
    await store.append(
        [
            Append(sid, 2, b"u2", 1, "2026-01-01T00:00:01.000Z"),
            Append(sid, 3, b"u3", 2, "2026-01-01T00:00:02.000Z"),
        ]
    )
    loaded = await store.load(sid)
    assert loaded is not None
    assert [seq for seq, _ in loaded.updates] == [1, 2, 3]
    assert loaded.record.revision == 2
    assert loaded.record.updated_at == "2026-01-01T00:00:02.000Z"
    # A retried batch is idempotent, and an older revision never moves it back.
    await store.append([Append(sid, 3, b"u3", 2, "2026-01-01T00:00:02.000Z")])
    await store.append([Append(sid, 4, b"u4", 1, "2026-01-01T00:00:03.000Z")])
    loaded = await store.load(sid)
    assert loaded is not None
    assert [data for _, data in loaded.updates] == [b"u1", b"u2", b"u3", b"u4"]
    assert loaded.record.revision == 2


async def test_rows_of_deleted_sessions_do_not_fail_a_batch(store: Store) -> None:
    live, gone = _unique("live"), _unique("gone")
    await store.create_session(_record(live), b"a")
    await store.create_session(_record(gone), b"b")
    assert await store.delete_session(gone) is True
    assert await store.delete_session(gone) is False
    await store.append([Append(gone, 2, b"x", 1, "t"), Append(live, 2, b"y", 1, "t")])
    assert await store.get_session(gone) is None
    loaded = await store.load(live)
    assert loaded is not None
    assert loaded.updates == [(1, b"a"), (2, b"y")]


async def test_snapshot_compacts_and_load_stays_complete(store: Store) -> None:
    sid = _unique("s")
    await store.create_session(_record(sid), b"u1")
    await store.append([Append(sid, seq, f"u{seq}".encode(), seq - 1, "t") for seq in range(2, 6)])
    await store.snapshot(sid, 3, b"snap@3")
    loaded = await store.load(sid)
    assert loaded is not None
    assert (loaded.snapshot, loaded.snapshot_seq) == (b"snap@3", 3)
    assert loaded.updates == [(4, b"u4"), (5, b"u5")]
    # An older snapshot arriving late never replaces a newer one.
    await store.snapshot(sid, 2, b"snap@2")
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.snapshot == b"snap@3"


async def test_list_sessions_pages_in_creation_order(store: Store) -> None:
    prefix = _unique("list")
    ids = [f"{prefix}-{n}" for n in range(3)]
    for n, sid in enumerate(ids):
        await store.create_session(_record(sid, f"2030-01-0{n + 1}T00:00:00.000Z"), b"x")
    listed = [r.id for r in await store.list_sessions(10_000) if r.id.startswith(prefix)]
    assert listed == ids
    everything = await store.list_sessions(10_000)
    page = await store.list_sessions(1, offset=len(everything) - 1)
    assert page == everything[-1:]


async def test_duplicate_create_is_a_store_error(store: Store) -> None:
    sid = _unique("dup")
    await store.create_session(_record(sid), b"x")
    with pytest.raises(StoreError):
        await store.create_session(_record(sid), b"y")
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.updates == [(1, b"x")]


async def test_concurrent_appends_from_many_sessions(store: Store) -> None:
    ids = [_unique("c") for _ in range(10)]
    for sid in ids:
        await store.create_session(_record(sid), b"0")
    await asyncio.gather(
        *(store.append([Append(sid, seq, b"d", seq - 1, "t")]) for sid in ids for seq in range(2, 7))
    )
    for sid in ids:
        loaded = await store.load(sid)
        assert loaded is not None
        assert [s for s, _ in loaded.updates] == [1, 2, 3, 4, 5, 6]
        assert loaded.record.revision == 5
