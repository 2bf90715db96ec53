"""The store owner lets only the process that last loaded a session write its log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from actors.link import LinkServer, LinkSettings, dial
from actors.link.link import RemoteFailure
from actors.store.client import StoreCore
from actors.store.service import StoreLinkHandler
from actors.store.wire import StoreMethod, append_to_wire, record_to_wire
from storage import Append, SessionRecord
from storage.settings import StorageSettings

pytestmark = pytest.mark.integration


def _row(session_id: str, seq: int, data: bytes) -> list[object]:
    return append_to_wire(Append(session_id, seq, data, seq - 1, "t"))


async def test_a_host_replaced_by_another_may_no_longer_write(tmp_path: Path) -> None:
    core = StoreCore(StorageSettings(data_dir=tmp_path))
    await core.open()
    handler = StoreLinkHandler(core)
    settings = LinkSettings(tcp_host="127.0.0.1", socket_dir=tmp_path)
    server = LinkServer("store", settings, handler.attach)
    address = await server.start()
    readers: list[asyncio.Task[None]] = []
    try:
        old, reader = await dial(address, "old", settings, peer="host-old")
        readers.append(reader)
        new, reader = await dial(address, "new", settings, peer="host-new")
        readers.append(reader)
        again, reader = await dial(address, "new-redialled", settings, peer="host-new")
        readers.append(reader)
        record = SessionRecord("fence-1", "n", "", 1, "t", "t")
        await old.request(StoreMethod.CREATE_SESSION, [record_to_wire(record), b"\x00\x00"])
        await old.request(StoreMethod.APPEND, [[_row("fence-1", 2, b"\x00\x00")]])

        # The session is re-placed: its new host loads it ...
        assert await new.request(StoreMethod.LOAD, ["fence-1"]) is not None
        # ... and the old host's late rows are refused, so they cannot take the new host's seqs.
        with pytest.raises(RemoteFailure, match="loaded by another host"):
            await old.request(StoreMethod.APPEND, [[_row("fence-1", 3, b"\x00\x00")]])
        with pytest.raises(RemoteFailure, match="loaded by another host"):
            await old.request(StoreMethod.SNAPSHOT, ["fence-1", 2, b"\x00\x00"])
        await new.request(StoreMethod.APPEND, [[_row("fence-1", 3, b"\x00\x00")]])
        # The new host's process may redial and keep writing.
        await again.request(StoreMethod.APPEND, [[_row("fence-1", 4, b"\x00\x00")]])
        loaded = await core.load("fence-1")
        assert loaded is not None
        assert [seq for seq, _ in loaded.updates] == [1, 2, 3, 4]
    finally:
        await server.stop()
        await handler.stop()
        await asyncio.gather(*readers, return_exceptions=True)
        await core.close()
