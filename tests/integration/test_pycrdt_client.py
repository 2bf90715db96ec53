"""/ws/{session_id} with pycrdt's own Provider: the plain y-websocket peer."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from pycrdt import Doc, Provider, Text

from ..harness import Gateway, wait_until
from ..hocus_client import HocusClient

pytestmark = pytest.mark.integration


class AiohttpChannel:
    """pycrdt's Channel protocol over an aiohttp client WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, path: str) -> None:
        self._ws = ws
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> AiohttpChannel:
        return self

    async def __anext__(self) -> bytes:
        msg = await self._ws.receive()
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise StopAsyncIteration
        data: bytes = msg.data
        return data

    async def send(self, message: bytes) -> None:
        await self._ws.send_bytes(message)

    async def recv(self) -> bytes:
        return await self.__anext__()


async def test_pycrdt_provider_and_hocuspocus_client_share_a_document(gateway: Gateway) -> None:
    sid = await gateway.create()
    async with HocusClient(f"{gateway.ws_url}/ws") as browser, aiohttp.ClientSession() as http:
        await browser.open(sid)
        await browser.insert(sid, "hocuspocus;")
        await browser.wait_statuses(sid, 2)
        ws = await http.ws_connect(f"{gateway.ws_url}/ws/{sid}")
        doc: Doc[Any] = Doc()
        text = doc.get("t", type=Text)
        async with Provider(doc, AiohttpChannel(ws, f"/ws/{sid}")) as provider:
            await asyncio.wait_for(provider.synced.wait(), 20)
            await wait_until(lambda: str(text), lambda t: t == "hocuspocus;")
            text += "pycrdt;"
            await browser.wait_text(sid, "hocuspocus;pycrdt;")
            await browser.insert(sid, "again")
            await wait_until(lambda: str(text), lambda t: t == "hocuspocus;pycrdt;again")
        await ws.close()
    # Every edit, the pycrdt one included, is committed and counted.
    await wait_until(
        lambda: gateway.request("GET", f"/api/sessions/{sid}"), lambda r: r[1]["session"]["revision"] == 3
    )
