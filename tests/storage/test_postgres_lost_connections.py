"""Postgres ending the stores' connections under concurrent writers: a write reported failed
did not happen.

Each writer creates records (not idempotent: a committed one retried is a conflict) while the
test terminates the store's backends over and over (``pg_terminate_backend``, only those of
this store's own ``application_name``). A write that fails may fail; one that is reported as
failed must not be in the database afterwards. asyncpg's release of a connection the server
ended just after a commit raised ``cannot switch to state 15; another operation (2) is in
progress``, and the committed write was reported as failed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import pytest

from storage import SessionRecord, StoreError, make_store
from storage.engine import EngineStoreError, Program, make_engine_store
from storage.settings import StorageSettings

pytestmark = pytest.mark.integration

WRITERS = 8
KILLS = 25
WRITES_BETWEEN_KILLS = 10


@dataclass
class _Tally:
    done: int = 0
    failed: list[str] = field(default_factory=list)
    progressed: asyncio.Event = field(default_factory=asyncio.Event)


async def _terminate(pg_url: str, application_name: str) -> int:
    admin = await asyncpg.connect(pg_url)
    try:
        killed: int = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            application_name,
        )
    finally:
        await admin.close()
    return killed


async def _write_while_killing(
    pg_url: str,
    application_name: str,
    write: Callable[[str], Awaitable[None]],
    error: type[Exception],
) -> _Tally:
    tally = _Tally()
    stop = asyncio.Event()

    async def writer(w: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            key = f"w{w}-{n}"
            try:
                await write(key)
            except error:
                tally.failed.append(key)
            tally.done += 1
            tally.progressed.set()

    async def killer() -> int:
        killed = 0
        for _ in range(KILLS):
            target = tally.done + WRITES_BETWEEN_KILLS
            while tally.done < target:  # the writers are at work between two kills
                tally.progressed.clear()
                await asyncio.wait_for(tally.progressed.wait(), 30)
            killed += await _terminate(pg_url, application_name)
        stop.set()
        return killed

    results = await asyncio.gather(killer(), *(writer(w) for w in range(WRITERS)))
    assert results[0] > 0  # connections were ended under the writers
    return tally


class _Target(NamedTuple):
    """A store under test: opened and closed, one non-idempotent write, and its read."""

    store: Any
    write: Callable[[str], Awaitable[None]]
    read: Callable[[str], Awaitable[object | None]]
    error: type[Exception]


def _bridge(pg_url: str, tmp_path: Path, application_name: str, schema: str) -> _Target:
    settings = StorageSettings(
        database_url=pg_url,
        data_dir=tmp_path,
        pg_max_connections=4,
        pg_application_name=application_name,
        pg_schema=schema,
    )
    store = make_store(settings)

    async def create(key: str) -> None:
        await store.create_session(SessionRecord(key, key, "", 1, "t", "t"), b"\x00\x00")

    return _Target(store, create, store.get_session, StoreError)


def _engine(pg_url: str, tmp_path: Path, application_name: str, schema: str) -> _Target:
    store = make_engine_store(
        pg_url, tmp_path, pg_max_connections=4, pg_schema=schema, application_name=application_name
    )

    async def create(key: str) -> None:
        await store.create_program(Program(key, "ada", key, "", "t"))

    return _Target(store, create, store.get_program, EngineStoreError)


@pytest.mark.parametrize("make", [_bridge, _engine], ids=["bridge", "engine"])
async def test_writes_reported_failed_were_not_committed(
    make: Callable[[str, Path, str, str], _Target], pg_url: str, tmp_path: Path
) -> None:
    application_name = f"atelier-lost-{uuid.uuid4().hex[:8]}"
    target = make(pg_url, tmp_path, application_name, f"lost_{uuid.uuid4().hex[:8]}")
    await target.store.open()
    try:
        tally = await _write_while_killing(pg_url, application_name, target.write, target.error)
        assert tally.failed, "no write met an ended connection: the test proved nothing"
        committed = [key for key in tally.failed if await target.read(key) is not None]
    finally:
        await target.store.close()
    assert committed == [], f"{len(committed)} of {len(tally.failed)} writes reported failed were committed"
