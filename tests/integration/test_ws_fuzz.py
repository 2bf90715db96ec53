"""10 000 malformed and random WebSocket frames through many connections while two editors
keep editing one document: the gateway stays up, only the connections that broke the
protocol are closed, and the editors never disconnect and converge.

Frames come in two kinds. Document-level mistakes (unknown document names, frames for a
document never authenticated, a wrong token, garbage sync/awareness payloads on a document
the connection did open) are refused for that document only: a connection that sends
nothing else must still answer a ping at the end. Protocol-level garbage (random bytes,
truncated varints, unknown message types, text frames, oversized frames) closes its own
connection with a precise code. The counts are printed and recorded as a test property.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import pytest

from actors.protocol.lib0 import write_var_bytes, write_var_string, write_var_uint
from actors.protocol.messages import PING, MessageType, encode_frame, token_frame
from gateway.ws.auth import mint_token

from ..harness import Gateway, gateway_settings, wait_until
from ..hocus_client import HocusClient

pytestmark = pytest.mark.integration

FRAMES = 10_000
WORKERS = 12
FRAMES_PER_CONNECTION = (20, 80)
MAX_FRAME = 64 << 10
SECRET = "fuzz-secret-" + "y" * 20
SEED = 20261123

# Refused for their document only: the connection must stay up.
BENIGN = (
    "unknown-doc",
    "unauthed-doc",
    "wrong-token",
    "garbage-sync",
    "garbage-awareness",
    "forbidden-type",
    "ping",
)
# Close the connection (1002 protocol error, 1003 unsupported data, 1009 too big), or may.
OFFENDING = ("random-bytes", "truncated-varint", "unknown-type", "bad-utf8-address", "text", "oversized")
EXPECTED_CLOSES = {1002, 1003, 1009}


@dataclass
class Tally:
    frames: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    benign_connections: int = 0
    benign_alive_at_end: int = 0
    closed_by_code: Counter[int] = field(default_factory=Counter)
    benign_closed: list[int | None] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.frames.values())


def _frame(kind: str, rng: random.Random, doc: str) -> bytes | str:
    if kind == "unknown-doc":
        name = rng.choice(
            [str(uuid.UUID(int=rng.getrandbits(128))), "no such doc", "x" * rng.randint(1, 300)]
        )
        return token_frame(name, mint_token(SECRET, "read-write"))
    if kind == "unauthed-doc":
        name = f"never-authed-{rng.randint(0, 5)}"
        return encode_frame(name, MessageType.SYNC, write_var_uint(0) + write_var_bytes(b"\x00"))
    if kind == "wrong-token":
        return token_frame(
            doc, rng.choice(["", "nope", "read-write:*:" + "0" * 64, mint_token("other", "read-write")])
        )
    if kind == "garbage-sync":  # a valid prefix for the editors' document, garbage after it
        return encode_frame(
            doc, MessageType.SYNC, bytes([rng.choice([0, 1, 2, 7])]) + rng.randbytes(rng.randint(0, 64))
        )
    if kind == "garbage-awareness":
        return encode_frame(doc, MessageType.AWARENESS, rng.randbytes(rng.randint(0, 64)))
    if kind == "forbidden-type":  # SyncReply and BroadcastStateless are server-to-server only
        return encode_frame(doc, rng.choice([MessageType.SYNC_REPLY, MessageType.BROADCAST_STATELESS]), b"")
    if kind == "ping":
        return PING
    if kind == "random-bytes":
        return rng.randbytes(rng.randint(1, 200))
    if kind == "truncated-varint":
        return rng.choice(
            [b"\x80", b"\xff\xff\xff", b"\x05ab", write_var_string(doc)[:-1], write_var_string(doc) + b"\x80"]
        )
    if kind == "unknown-type":
        return write_var_string(doc) + write_var_uint(rng.choice([11, 12, 99, 1000, 1 << 40]))
    if kind == "bad-utf8-address":
        return b"\x02\xff\xfe" + write_var_uint(0)
    if kind == "text":
        return "hello " * rng.randint(1, 10)
    if kind == "oversized":
        return write_var_string(doc) + write_var_uint(0) + b"\x02" + b"\x00" * (MAX_FRAME + 16)
    raise AssertionError(kind)


async def _connection(url: str, doc: str, rng: random.Random, budget: int, tally: Tally) -> int:
    """One fuzzing connection; returns the frames it sent."""
    benign = rng.random() < 0.4
    kinds = BENIGN if benign else BENIGN + OFFENDING * 2
    tally.connections += 1
    tally.benign_connections += benign
    sent = 0
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, max_msg_size=0, autoping=True)
        pongs = 0

        async def read() -> None:
            nonlocal pongs
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY and msg.data == bytes([MessageType.PONG]):
                    pongs += 1

        reader = asyncio.get_running_loop().create_task(read())
        if rng.random() < 0.5:  # half of them open the editors' document for real first
            await ws.send_bytes(token_frame(doc, mint_token(SECRET, "read-write")))
            sent += 1
            tally.frames["auth"] += 1
        while sent < budget and not reader.done():
            kind = rng.choice(kinds)
            frame = _frame(kind, rng, doc)
            try:
                if isinstance(frame, str):
                    await ws.send_str(frame)
                else:
                    await ws.send_bytes(frame)
                sent += 1
                tally.frames[kind] += 1
                if kind in OFFENDING:
                    # A ping behind it: the pong (or the close) says the server has read the
                    # frame, so no frame is counted that a closed connection never delivered.
                    before = pongs
                    await ws.send_bytes(PING)
                    sent += 1
                    tally.frames["ping"] += 1
                    await wait_until(lambda: pongs > before or reader.done(), bool, timeout=30)  # noqa: B023
            except (ConnectionError, RuntimeError):
                break  # the server closed it meanwhile
        if benign:
            # Still up: it answers a ping after everything it sent.
            before = pongs
            # A benign connection the server closed is counted below.
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_bytes(PING)
                await wait_until(lambda: pongs > before or reader.done(), bool, timeout=30)
            if pongs > before and not reader.done():
                tally.benign_alive_at_end += 1
            else:
                tally.benign_closed.append(ws.close_code)
            await ws.close()
        else:
            # The server closes on the fatal frame; a run whose frames all happened to be
            # survivable is closed by us (1000) once the server has had its chance.
            await asyncio.wait({reader}, timeout=2)
            if not reader.done():
                await ws.close()
            await asyncio.wait_for(reader, 30)
            code = ws.close_code
            # A close we started ourselves (nothing offending happened to close it) is 1000.
            tally.closed_by_code[code if code is not None else -1] += 1
        await asyncio.wait_for(asyncio.gather(reader, return_exceptions=True), 30)
    return sent


async def _fuzz(url: str, doc: str, tally: Tally) -> None:
    remaining = FRAMES

    async def worker(index: int) -> None:
        nonlocal remaining
        rng = random.Random(SEED + index)
        while remaining > 0:
            budget = min(remaining, rng.randint(*FRAMES_PER_CONNECTION))
            remaining -= budget
            sent = await _connection(url, doc, rng, budget, tally)
            remaining += budget - sent  # frames not sent (closed early) go to later connections

    await asyncio.gather(*(worker(i) for i in range(WORKERS)))


async def _edit(editor: HocusClient, doc: str, tag: str, stop: asyncio.Event, inserted: list[str]) -> None:
    n = 0
    while not stop.is_set() or n < 20:
        piece = f"{tag}{n};"
        await editor.insert(doc, piece)
        inserted.append(piece)
        n += 1
        try:
            await asyncio.wait_for(stop.wait(), 0.05)  # pacing the editor, not synchronisation
        except TimeoutError:
            continue


async def test_fuzzed_frames_close_only_their_own_connections(
    ray_cluster: None, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    settings = replace(
        gateway_settings(database_url=None, data_dir=tmp_path), ws_secret=SECRET, ws_max_frame_bytes=MAX_FRAME
    )
    gw = await Gateway(settings).start()
    try:
        doc = await gw.create(name="fuzzed")
        token = mint_token(SECRET, "read-write")
        tally = Tally()
        async with HocusClient(f"{gw.ws_url}/ws") as alice, HocusClient(f"{gw.ws_url}/ws") as bob:
            await alice.open(doc, token)
            await bob.open(doc, token)
            stop = asyncio.Event()
            texts: dict[str, list[str]] = {"a": [], "b": []}
            editing = [
                asyncio.get_running_loop().create_task(_edit(alice, doc, "a", stop, texts["a"])),
                asyncio.get_running_loop().create_task(_edit(bob, doc, "b", stop, texts["b"])),
            ]
            try:
                await asyncio.wait_for(_fuzz(f"{gw.ws_url}/ws", doc, tally), 300)
            finally:
                stop.set()
                await asyncio.gather(*editing)

            # The editors never disconnected, every edit was acknowledged, and they converge.
            assert not alice.closed.is_set()
            assert not bob.closed.is_set()
            a_statuses = await alice.wait_statuses(doc, 1 + len(texts["a"]), timeout=60)
            b_statuses = await bob.wait_statuses(doc, 1 + len(texts["b"]), timeout=60)
            assert set(a_statuses) == {1}
            assert set(b_statuses) == {1}
            await wait_until(lambda: alice.text(doc) == bob.text(doc), bool, timeout=60)
            final = alice.text(doc)
            assert all(piece in final for piece in texts["a"] + texts["b"])

        # The server is up: REST answers and a new editor reads the same document.
        status, _ = await gw.request("GET", f"/api/sessions/{doc}")
        assert status == 200
        async with HocusClient(f"{gw.ws_url}/ws") as carol:
            await carol.open(doc, token)
            await carol.wait_text(doc, final, timeout=30)

        figures = {
            "frames_sent": tally.sent,
            "frames_by_kind": dict(sorted(tally.frames.items())),
            "connections": tally.connections,
            "benign_connections": tally.benign_connections,
            "benign_alive_at_end": tally.benign_alive_at_end,
            "offending_connections_by_close_code": {
                str(k): v for k, v in sorted(tally.closed_by_code.items())
            },
            "editor_edits": {"alice": len(texts["a"]), "bob": len(texts["b"])},
        }
        text = json.dumps(figures, sort_keys=True)
        print(f"\nws_fuzz: {text}")
        record_property("ws_fuzz", text)

        assert tally.sent >= FRAMES
        assert tally.benign_closed == []
        assert tally.benign_alive_at_end == tally.benign_connections
        closes = set(tally.closed_by_code) - {1000}  # 1000: an offending run that never hit a fatal frame
        assert closes <= EXPECTED_CLOSES, tally.closed_by_code
        assert closes >= EXPECTED_CLOSES, tally.closed_by_code  # each kind of fatal frame was seen
    finally:
        await gw.stop()
