"""The store owner lets only the process that last loaded a session write its log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from actors.core.ops import encode
from actors.link import LinkServer, LinkSettings, dial
from actors.link.link import Link, RemoteFailure
from actors.store.client import StoreCore
from actors.store.ops import StoreOp
from actors.store.ops import bridge as ops
from actors.store.service import StoreLinkHandler
from storage import Append, SessionRecord
from storage.settings import StorageSettings

pytestmark = pytest.mark.integration


def _append(session_id: str, seq: int, data: bytes) -> ops.AppendRows:
    return ops.AppendRows([Append(session_id, seq, data, seq - 1, "t")])


async def _send(link: Link, op: StoreOp) -> Any:
    """The op sent as a host's store client sends it: its tag and fields on the link."""
    return await link.request(*encode(op))


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
        await _send(old, ops.CreateSession(record, b"\x00\x00"))
        await _send(old, _append("fence-1", 2, b"\x00\x00"))

        # The session is re-placed: its new host loads it ...
        assert await _send(new, ops.Load("fence-1")) is not None
        # ... and the old host's late rows are refused, so they cannot take the new host's seqs.
        with pytest.raises(RemoteFailure, match="loaded by another host"):
            await _send(old, _append("fence-1", 3, b"\x00\x00"))
        with pytest.raises(RemoteFailure, match="loaded by another host"):
            await _send(old, ops.Snapshot("fence-1", 2, b"\x00\x00"))
        await _send(new, _append("fence-1", 3, b"\x00\x00"))
        # The new host's process may redial and keep writing.
        await _send(again, _append("fence-1", 4, b"\x00\x00"))
        loaded = await core.load("fence-1")
        assert loaded is not None
        assert [seq for seq, _ in loaded.updates] == [1, 2, 3, 4]
    finally:
        await server.stop()
        await handler.stop()
        await asyncio.gather(*readers, return_exceptions=True)
        await core.close()
