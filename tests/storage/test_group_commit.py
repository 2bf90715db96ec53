"""Group commit against the real stores: fewer transactions than callers, nothing lost."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from storage import Append, GroupCommitter, SessionRecord, Store, StoreError

pytestmark = pytest.mark.integration


async def test_many_callers_share_transactions(store: Store) -> None:
    ids = [f"g-{uuid.uuid4().hex[:10]}" for _ in range(20)]
    for sid in ids:
        await store.create_session(SessionRecord(sid, "n", "", 0, "t", "t"), b"0")
    committer = GroupCommitter(store, max_batch_rows=64)
    try:
        await asyncio.gather(
            *(committer.append([Append(sid, seq, b"x", seq - 1, "t")]) for seq in range(2, 12) for sid in ids)
        )
    finally:
        await committer.stop()
    assert committer.rows == 200
    assert committer.transactions < 200
    for sid in ids:
        loaded = await store.load(sid)
        assert loaded is not None
        assert len(loaded.updates) == 11


class _FailingStore:
    """Fails the batch holding a marked row: only its callers may see the failure."""

    def __init__(self) -> None:
        self.committed: list[bytes] = []

    async def append(self, batch: list[Append]) -> None:
        await asyncio.sleep(0)
        if any(row.data == b"poison" for row in batch):
            raise StoreError("refused")
        self.committed.extend(row.data for row in batch)


async def test_a_failed_transaction_fails_only_its_callers() -> None:
    store = _FailingStore()
    committer = GroupCommitter(store, max_batch_rows=1)  # type: ignore[arg-type]
    results = await asyncio.gather(
        committer.append([Append("a", 1, b"ok1", 0, "t")]),
        committer.append([Append("a", 2, b"poison", 0, "t")]),
        committer.append([Append("a", 3, b"ok2", 0, "t")]),
        return_exceptions=True,
    )
    await committer.stop()
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], StoreError)
    assert store.committed == [b"ok1", b"ok2"]


async def test_a_load_after_the_barrier_sees_every_row_queued_before_it(store: Store) -> None:
    sid = f"b-{uuid.uuid4().hex[:10]}"
    await store.create_session(SessionRecord(sid, "n", "", 0, "t", "t"), b"0")
    committer = GroupCommitter(store, max_batch_rows=4)
    try:
        # Queued, not yet committed: the appending tasks have only run to their enqueue.
        appends = [
            asyncio.ensure_future(committer.append([Append(sid, seq, b"x", seq - 1, "t")]))
            for seq in range(2, 12)
        ]
        await asyncio.sleep(0)
        assert committer.queued_rows > 0
        await committer.barrier()
        loaded = await store.load(sid)
        assert all(task.done() for task in appends)
    finally:
        await committer.stop()
    assert loaded is not None
    assert [seq for seq, _ in loaded.updates] == list(range(1, 12))


async def test_a_barrier_with_nothing_queued_returns_at_once() -> None:
    committer = GroupCommitter(_FailingStore(), max_batch_rows=1)  # type: ignore[arg-type]
    await asyncio.wait_for(committer.barrier(), 1)
    assert committer.transactions == 0
