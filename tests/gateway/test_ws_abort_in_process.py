"""A peer that stops reading is closed with 1013 and, when it does not complete the close,
aborted: its descriptor, kernel buffers and the gateway's queued frames are released."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

from actors.protocol.messages import MessageType, encode_frame, sync_step1, token_frame
from gateway.limits.settings import LimitSettings
from gateway.state import METRICS

from ..harness import wait_until
from ..hocus_client import HocusClient
from .local import ClientFactory, local_app

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


def masked(payload: bytes, opcode: int = 0x2) -> bytes:
    """One client frame (clients must mask), FIN set."""
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 1 << 16:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def raw_peer(port: int) -> socket.socket:
    """A WebSocket client on a plain socket with a tiny receive buffer; it never reads frames."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing past the handshake is consumed
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_until_gone(sock: socket.socket, timeout: float) -> str:
    """Drain what the kernel holds until the server's side is gone (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 20):
            continue
        return "eof"
    except ConnectionResetError:
        return "reset"


async def test_a_peer_that_stops_reading_is_aborted_and_its_queue_freed(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = local_app(tmp_path, ws_outbound_queue_bytes=2 << 20, limits=LimitSettings(ws_close_timeout=0.5))
    client = await aiohttp_client(app)
    registry = app[METRICS].registry

    def metric(name: str) -> float:
        return registry.get_sample_value(name) or 0.0

    created = await client.post("/api/sessions", json={"name": "big", "spec": SPEC})
    sid = (await created.json())["session"]["id"]
    async with HocusClient(f"ws://127.0.0.1:{client.port}/ws") as editor:
        await editor.open(sid)
        await editor.insert(sid, "x" * (256 << 10))
        await editor.wait_statuses(sid, 2)

        loop = asyncio.get_running_loop()
        peer = await loop.run_in_executor(None, raw_peer, client.port)
        try:
            # Each SyncStep1 is answered with the whole 256 KiB document. First enough to fill
            # the kernel's buffers, until frames wait in the gateway's queue (the peer is not
            # reading); then 40 more, far past the 2 MiB queue.
            step1 = masked(encode_frame(sid, MessageType.SYNC, sync_step1(b"\x00")))
            await loop.run_in_executor(None, peer.sendall, masked(token_frame(sid, "token")))
            sent = 0
            while metric("atelier_ws_outbound_queue_bytes") == 0:
                assert sent < 200, "the socket never backed up"
                await loop.run_in_executor(None, peer.sendall, step1)
                sent += 1
                await asyncio.sleep(0.05)  # pacing the peer's requests, not synchronisation
            assert metric("atelier_ws_slow_consumer_closes_total") == 0
            await loop.run_in_executor(None, peer.sendall, step1 * 40)

            await wait_until(
                lambda: metric("atelier_ws_slow_consumer_closes_total"), lambda v: v == 1, timeout=30
            )
            await wait_until(lambda: metric("atelier_ws_aborted_total"), lambda v: v == 1, timeout=10)
            # The socket is gone from the gateway and nothing is left queued for it.
            await wait_until(lambda: metric("atelier_ws_connections"), lambda v: v == 1, timeout=10)
            assert metric("atelier_ws_outbound_queue_bytes") == 0
            # The server side of the TCP connection is closed: the peer reads what the kernel
            # had buffered, then EOF or a reset, within a bounded time.
            gone = await loop.run_in_executor(None, read_until_gone, peer, 10.0)
            assert gone in ("eof", "reset")
        finally:
            peer.close()

        # The editor on the same document never noticed.
        assert not editor.closed.is_set()
        await editor.insert(sid, "!")
        statuses = await editor.wait_statuses(sid, 3)
        assert statuses[-1] == 1
