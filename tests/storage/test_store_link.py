"""The store client reaches the store owner over a real link: each store's records come
back as themselves, user JSON and bytes unchanged, and store errors as their own classes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.link import LinkAddress, LinkServer, LinkSettings
from actors.store.client import LinkStoreClient, StoreCore
from actors.store.service import StoreLinkHandler
from storage import Append, SessionRecord, VersionRecord
from storage import engine as eng
from storage import workspace as work
from storage.settings import StorageSettings

pytestmark = pytest.mark.integration

USER_JSON: dict[str, Any] = {"~": "Design", "v": {"~": ["a", 1]}, "bytes-like": "\x00"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[LinkStoreClient]:
    core = StoreCore(StorageSettings(data_dir=tmp_path))
    await core.open()
    handler = StoreLinkHandler(core)
    settings = LinkSettings(tcp_host="127.0.0.1", socket_dir=tmp_path)
    server = LinkServer("store", settings, handler.attach)
    address = await server.start()

    async def resolve() -> LinkAddress:
        return address

    store = LinkStoreClient(resolve, settings, "test")
    try:
        yield store
    finally:
        await store.close()
        await server.stop()
        await handler.stop()
        await core.close()


async def test_bridge_log_and_versions_round_trip(client: LinkStoreClient) -> None:
    record = SessionRecord("b-1", "n", "", 1, "t", "t")
    await client.create_session(record, b"\x00\x00")
    assert await client.get_session("b-1") == record
    await client.append([Append("b-1", 2, b"\x01\xff", 2, "t2")])
    loaded = await client.load("b-1")
    assert loaded is not None
    assert loaded.updates[-1] == (2, b"\x01\xff")
    assert type(loaded.updates[-1][1]) is bytes
    version = VersionRecord("b-1", "v-1", 2, 2, "t", "api", "first", "manual")
    assert await client.save_version(version, b"\x07")
    assert await client.load_version("b-1", "v-1") == (version, b"\x07")
    assert await client.list_versions("b-1") == [version]
    assert await client.delete_versions("b-1", ["v-1"]) == 1
    assert await client.load("missing") is None


async def test_engine_records_and_a_stale_save(client: LinkStoreClient) -> None:
    store = client.engine
    await store.create_program(eng.Program("p-1", "u-1", "prog", "", "t"))
    session = eng.DesignSessionRecord(
        "d-1", "u-1", "p-1", None, None, "t", "requirements", "active", USER_JSON, None, "t", "t", 0, b"\x00"
    )
    await store.create_session(session)
    got = await store.get_session("d-1")
    assert got is not None
    assert got.artifacts == USER_JSON
    assert got.doc == b"\x00"
    event = eng.StoredEvent("d-1", 1, "r-1", b'{"~": 1}', "t")
    saved = await store.save_session_with_events(session, 0, [event])
    assert await store.read_events("d-1", 0, 10) == [event]
    with pytest.raises(eng.StaleRevision) as caught:
        await store.save_session_with_events(session, 0, [])
    assert (caught.value.session_id, caught.value.expected, caught.value.actual) == ("d-1", 0, saved.revision)
    with pytest.raises(eng.Conflict):
        await store.create_program(eng.Program("p-1", "u-1", "prog", "", "t"))


async def test_workspace_records_and_errors(client: LinkStoreClient) -> None:
    store = client.workspace
    project = work.Project("p-1", "u-1", "n", "2026", "", "active", "t", "t", {"~": "token"})
    await store.create_project(project)
    assert await store.get_project("p-1") == project
    await store.create_session(work.WorkspaceSession("w-1", "p-1", "u-1", "chat", None, "active", "t", "t"))
    run = work.Run("r-1", "w-1", "u-1", work.RunStatus.QUEUED, "go", "chat", ("f-1",), "t")
    await store.create_run(run)
    assert await store.get_run("r-1") == run
    with pytest.raises(work.RunInProgress) as caught:
        await store.create_run(work.Run("r-2", "w-1", "u-1", work.RunStatus.QUEUED, "go", "chat", (), "t"))
    assert (caught.value.session_id, caught.value.run_id) == ("w-1", "r-1")
    with pytest.raises(work.NotFound):
        await store.update_session("missing", updated_at="t", title="x")
    reserved = await store.reserve("u-1", "2026-12", 1, "r-1", resets_at="t", created_at="t")
    assert isinstance(reserved, work.QuotaReservation)
    exceeded = await store.reserve("u-1", "2026-12", 1, "r-3", resets_at="t", created_at="t")
    assert exceeded == work.QuotaExceeded(1, 1, "t")


async def test_requests_in_flight_together_each_get_their_own_answer(client: LinkStoreClient) -> None:
    for i in range(5):
        await client.create_session(SessionRecord(f"c-{i}", f"n{i}", "", 1, "t", "t"), b"\x00\x00")
    got = await asyncio.gather(*(client.get_session(f"c-{i}") for i in range(5)))
    assert [record.name for record in got if record is not None] == [f"n{i}" for i in range(5)]
