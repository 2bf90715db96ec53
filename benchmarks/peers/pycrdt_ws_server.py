"""pycrdt-websocket as a benchmark peer: ``python -m benchmarks.peers.pycrdt_ws_server --port N``.

The library's ``WebsocketServer`` (rooms in memory, no YStore, so no persistence) serves
plain y-websocket on ``ws://127.0.0.1:N/<room>``. pycrdt-websocket brings no HTTP server of
its own (its docs plug it into an ASGI server); it runs here on aiohttp, the same HTTP and
WebSocket stack as atelier and the relay, so the comparison is about the room logic, with a
``Channel`` adapter like the library's own ``HttpxWebsocket``. ``GET /health`` answers when
the room server has started.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from pycrdt.websocket import WebsocketServer

__all__ = ["AiohttpChannel", "build_app", "main"]

log = logging.getLogger(__name__)

ROOMS = web.AppKey("rooms", WebsocketServer)
ROOM_START = web.AppKey("room_start", asyncio.Lock)


class AiohttpChannel:
    """pycrdt's ``Channel`` over an aiohttp server WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, path: str) -> None:
        self._ws = ws
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> AiohttpChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except (ConnectionError, RuntimeError):
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        # No lock: the room sends from one task per client per update, and aiohttp writes
        # each uncompressed frame whole, in call order (clients here do not negotiate
        # permessage-deflate).
        await self._ws.send_bytes(message)

    async def recv(self) -> bytes:
        msg = await self._ws.receive()
        if msg.type == aiohttp.WSMsgType.BINARY:
            data: bytes = msg.data
            return data
        raise StopAsyncIteration


async def _serve_room(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
    await ws.prepare(request)
    name = request.match_info["room"]
    rooms = request.app[ROOMS]
    # pycrdt-websocket 0.16 deadlocks when two clients open a new room at the same time
    # (both try to start it; the second waits on the first's start lock forever), so
    # rooms are started one at a time here; serve() then finds the room running.
    async with request.app[ROOM_START]:
        await rooms.get_room(name)
    await rooms.serve(AiohttpChannel(ws, name))
    return ws


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": request.app[ROOMS].started.is_set()})


def build_app() -> web.Application:
    app = web.Application()
    rooms = WebsocketServer(auto_clean_rooms=True, log=log)
    app[ROOMS] = rooms
    app[ROOM_START] = asyncio.Lock()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with rooms:
            yield

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/health", _health)
    app.router.add_get("/{room:.+}", _serve_room)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(
        build_app(), host="127.0.0.1", port=args.port, print=None, access_log=None, shutdown_timeout=2
    )


if __name__ == "__main__":
    main()
