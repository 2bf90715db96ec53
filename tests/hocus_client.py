"""A small Hocuspocus-protocol client over pycrdt, for tests that need raw frame control.

The real browser client (@hocuspocus/provider) is exercised by tests/interop; this one
lets tests send malformed or hand-built frames and read exactly what comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from pycrdt import Doc, Text

from actors.protocol.lib0 import Decoder, write_var_bytes
from actors.protocol.messages import (
    AuthType,
    Frame,
    MessageType,
    SyncType,
    decode_frame,
    decode_sync,
    encode_frame,
    sync_step1,
    sync_step2,
    sync_update,
    token_frame,
)

__all__ = ["DocState", "HocusClient"]


@dataclass
class DocState:
    name: str
    doc: Doc[Any] = field(default_factory=Doc)
    authenticated: asyncio.Event = field(default_factory=asyncio.Event)
    denied: str | None = None
    scope: str | None = None
    got_step2: asyncio.Event = field(default_factory=asyncio.Event)
    statuses: list[int] = field(default_factory=list)
    awareness: list[bytes] = field(default_factory=list)
    stateless: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class HocusClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.docs: dict[str, DocState] = {}
        self._session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.pongs = 0

    async def __aenter__(self) -> HocusClient:
        self._session = aiohttp.ClientSession()
        self.ws = await self._session.ws_connect(self.url, max_msg_size=0)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def send(self, data: bytes) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(data)

    async def open(self, name: str, token: str = "token", *, wait: bool = True) -> DocState:
        state = self.docs.setdefault(name, DocState(name))
        await self.send(token_frame(name, token))
        await self.send(encode_frame(name, MessageType.SYNC, sync_step1(state.doc.get_state())))
        if wait:
            await asyncio.wait_for(state.authenticated.wait(), 20)
            await asyncio.wait_for(state.got_step2.wait(), 20)
            if state.denied is None:
                # Our SyncStep2 (the answer to the server's SyncStep1) has been acknowledged:
                # the handshake is over and later statuses belong to later messages.
                await self.wait_statuses(name, 1)
        return state

    async def insert(self, name: str, text: str, field_name: str = "t") -> bytes:
        """Edit the local doc and send the update; returns the update bytes."""
        state = self.docs[name]
        updates: list[bytes] = []
        sub = state.doc.observe(lambda event: updates.append(event.update))
        ytext = state.doc.get(field_name, type=Text)
        ytext += text
        state.doc.unobserve(sub)
        update = updates[0]
        await self.send(encode_frame(name, MessageType.SYNC, sync_update(update)))
        return update

    def text(self, name: str, field_name: str = "t") -> str:
        return str(self.docs[name].doc.get(field_name, type=Text))

    async def _wait(
        self,
        name: str,
        done: Callable[[], bool],
        describe: Callable[[], str],
        timeout: float,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
    ) -> None:
        """Wait until ``done()`` holds, re-checking whenever a frame for ``name`` arrives."""
        state = self.docs[name]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            state.changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(describe())
            try:
                await asyncio.wait_for(state.changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_statuses(self, name: str, count: int, timeout: float = 20) -> list[int]:  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        statuses = self.docs[name].statuses
        await self._wait(
            name,
            lambda: len(statuses) >= count,
            lambda: f"only {len(statuses)} of {count} SyncStatus arrived",
            timeout,
        )
        return statuses

    async def wait_text(
        self,
        name: str,
        expected: str,
        timeout: float = 20,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        field_name: str = "t",
    ) -> None:
        await self._wait(
            name,
            lambda: self.text(name, field_name) == expected,
            lambda: f"text is {self.text(name, field_name)!r}, expected {expected!r}",
            timeout,
        )

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            frame = decode_frame(msg.data)
            if frame.type == MessageType.PONG:
                self.pongs += 1
                continue
            state = self.docs.setdefault(frame.address, DocState(frame.address))
            state.frames.append(frame)
            self._handle(state, frame)
            state.changed.set()
        self.close_code = self.ws.close_code
        self.closed.set()
        for state in self.docs.values():
            state.changed.set()

    def _handle(self, state: DocState, frame: Frame) -> None:
        decoder = Decoder(frame.payload)
        if frame.type == MessageType.AUTH:
            subtype = decoder.read_var_uint()
            text = decoder.read_var_string()
            if subtype == AuthType.AUTHENTICATED:
                state.scope = text
                state.authenticated.set()
            elif subtype == AuthType.PERMISSION_DENIED:
                state.denied = text
                state.authenticated.set()
        elif frame.type == MessageType.SYNC:
            kind, body = decode_sync(frame.payload)
            if kind == SyncType.STEP1:
                reply = sync_step2(state.doc.get_update(body))
                asyncio.get_running_loop().create_task(
                    self.send(encode_frame(state.name, MessageType.SYNC, reply))
                )
            else:
                state.doc.apply_update(body)
                if kind == SyncType.STEP2:
                    state.got_step2.set()
        elif frame.type == MessageType.SYNC_STATUS:
            state.statuses.append(decoder.read_var_uint())
        elif frame.type == MessageType.AWARENESS:
            state.awareness.append(decoder.read_var_bytes())
        elif frame.type == MessageType.STATELESS:
            state.stateless.append(decoder.read_var_string())


def awareness_frame_for(name: str, client_id: int, clock: int, state_json: str) -> bytes:
    from actors.protocol.lib0 import write_var_string, write_var_uint

    update = (
        write_var_uint(1) + write_var_uint(client_id) + write_var_uint(clock) + write_var_string(state_json)
    )
    return encode_frame(name, MessageType.AWARENESS, write_var_bytes(update))
