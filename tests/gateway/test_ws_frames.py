"""Outgoing frames: framed once, written per loop turn, read back by a real WebSocket client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from actors.client import LocalSessionClient
from actors.protocol.messages import MessageType
from actors.settings import ActorSettings
from gateway.app import build_app
from gateway.settings import Settings
from gateway.ws.connection import Binding, Connection
from gateway.ws.frames import binary_frame, frame_header
from storage.settings import StorageSettings

from ..hocus_client import HocusClient

MESSAGES = [b"", b"a", b"b" * 125, b"c" * 126, b"d" * 65535, b"e" * 65536, b"f" * 70000]

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def test_header_length_forms() -> None:
    assert frame_header(125) == b"\x82\x7d"
    assert frame_header(126) == b"\x82\x7e\x00\x7e"
    assert frame_header(65535) == b"\x82\x7e\xff\xff"
    assert frame_header(65536) == b"\x82\x7f" + (65536).to_bytes(8, "big")


async def serve(aiohttp_server: ServerFactory, rounds: list[list[bytes]]) -> tuple[TestServer, list[int]]:
    """A server that sends each round's messages in one loop turn; lists the transport writes
    of binary frames (aiohttp's own close frame is not ours)."""
    writes: list[int] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        write = transport.write

        def counted(data: Any) -> None:
            if bytes(data[:1]) == b"\x82":
                writes.append(len(data))
            write(data)

        transport.write = counted  # type: ignore[method-assign]
        conn = Connection(
            ws,
            queue_limit=1000,
            queue_bytes=1 << 24,
            plain=True,
            transport=transport,
            protocol=request.protocol,
        )
        for messages in rounds:
            for message in messages:
                conn.send_framed(binary_frame(message))
            await asyncio.sleep(0)  # the next round in the next loop turn
        await ws.receive()  # until the client closes
        await conn.stop()
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    return await aiohttp_server(app), writes


async def receive(server: TestServer, count: int) -> list[bytes]:
    async with aiohttp.ClientSession() as http, http.ws_connect(server.make_url("/")) as ws:
        got = []
        for _ in range(count):
            msg = await asyncio.wait_for(ws.receive(), 10)
            assert msg.type == aiohttp.WSMsgType.BINARY, msg
            got.append(msg.data)
        return got


async def test_frames_read_back_as_their_messages_in_order(aiohttp_server: ServerFactory) -> None:
    server, _ = await serve(aiohttp_server, [MESSAGES])
    assert await receive(server, len(MESSAGES)) == MESSAGES


@pytest.mark.parametrize("per_turn", [1, 50])
async def test_frames_of_one_loop_turn_are_one_write(aiohttp_server: ServerFactory, per_turn: int) -> None:
    rounds = [[f"{r}:{i}".encode() for i in range(per_turn)] for r in range(3)]
    server, writes = await serve(aiohttp_server, rounds)
    assert await receive(server, 3 * per_turn) == [m for messages in rounds for m in messages]
    assert writes == [sum(len(binary_frame(m)) for m in messages) for messages in rounds]


async def test_a_broadcast_is_framed_once_for_all_its_sockets(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    actors, storage = ActorSettings(), StorageSettings(data_dir=tmp_path)
    settings = Settings(actors=actors, storage=storage)
    client = await aiohttp_client(build_app(settings, LocalSessionClient(actors, storage)))
    sid = (await (await client.post("/api/sessions", json={"name": "f"})).json())["session"]["id"]
    url = str(client.make_url("/ws"))
    editors = [HocusClient(url) for _ in range(6)]
    for editor in editors:
        await editor.__aenter__()
        await editor.open(sid)
    try:
        framed: list[int] = []
        frame = Binding.framed

        def counting(binding: Binding, kind: int, payload: bytes) -> bytes | None:
            framed.append(kind)
            return frame(binding, kind, payload)

        monkeypatch.setattr(Binding, "framed", counting)
        await editors[0].insert(sid, "once")
        for editor in editors:
            await editor.wait_text(sid, "once")
        await editors[0].wait_statuses(sid, 2)
        # one frame for the five other sockets, one for the sender's SyncStatus
        assert sorted(framed) == sorted([MessageType.SYNC, MessageType.SYNC_STATUS]), framed
    finally:
        for editor in editors:
            await editor.__aexit__(None, None, None)
