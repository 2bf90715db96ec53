"""A bare aiohttp WebSocket relay: ``python -m benchmarks.peers.relay --port N``.

The ceiling for any Python relay on this machine: no CRDT, no document, no persistence, no
queues. Every update frame is forwarded as-is to the other sockets of its room, then
acknowledged, so the same client measures the same things as against atelier.

- ``/ws`` speaks just enough Hocuspocus for the benchmark client: ``Auth`` gets
  ``Authenticated``; ``SyncStep1`` gets an empty ``SyncStep1`` + ``SyncStep2`` (the relay
  holds no state) and joins the room named by the address; ``SyncStep2``/``Update`` are
  relayed and acknowledged with ``SyncStatus(1)`` (acknowledged on receipt, not on any
  durable write); awareness is relayed; ``Ping`` gets ``Pong``.
- ``/ws/{room}`` is the plain y-websocket variant: a client's ``SyncStep1`` gets an empty
  ``SyncStep2``; everything else is relayed.
- ``GET /health`` answers ``{"ok": true}``.

A late joiner gets nothing of the past (there is no document): the benchmark syncs every
client before anyone edits.
"""

from __future__ import annotations

import argparse
import logging

import aiohttp
from aiohttp import web

from actors.protocol.lib0 import DecodeError, Decoder, write_var_uint
from actors.protocol.messages import (
    PING,
    PONG,
    MessageType,
    SyncType,
    YMessageType,
    authenticated,
    encode_frame,
    route_name,
    sync_status,
    sync_step1,
    sync_step2,
)

__all__ = ["build_app", "main"]

log = logging.getLogger(__name__)

Room = set[web.WebSocketResponse]
ROOMS = web.AppKey("rooms", dict[str, Room])

_EMPTY_SV = write_var_uint(0)
_EMPTY_UPDATE = write_var_uint(0) + write_var_uint(0)
_Y_SYNC = write_var_uint(YMessageType.SYNC)
_Y_STEP2_EMPTY = _Y_SYNC + sync_step2(_EMPTY_UPDATE)


async def _relay(room: Room, sender: web.WebSocketResponse, data: bytes) -> None:
    for peer in tuple(room):  # a snapshot: sockets may join or leave while we await
        if peer is sender or peer.closed:
            continue
        try:
            await peer.send_bytes(data)
        except (ConnectionError, RuntimeError):
            continue  # that peer is going away; the others still get the frame


async def _hocuspocus(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
    await ws.prepare(request)
    rooms = request.app[ROOMS]
    joined: dict[str, Room] = {}
    try:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            data: bytes = msg.data
            if data == PING:
                await ws.send_bytes(PONG)
                continue
            decoder = Decoder(data)
            try:
                address = decoder.read_var_string()
                mtype = decoder.read_var_uint()
                sync_kind = decoder.read_var_uint() if mtype == MessageType.SYNC else -1
            except DecodeError:
                await ws.close(code=aiohttp.WSCloseCode.PROTOCOL_ERROR)
                break
            if mtype == MessageType.SYNC:
                if sync_kind == SyncType.STEP1:
                    room = rooms.setdefault(route_name(address), set())
                    room.add(ws)
                    joined[address] = room
                    await ws.send_bytes(encode_frame(address, MessageType.SYNC, sync_step1(_EMPTY_SV)))
                    await ws.send_bytes(encode_frame(address, MessageType.SYNC, sync_step2(_EMPTY_UPDATE)))
                    continue
                room = joined.get(address) or set()
                await _relay(room, ws, data)
                await ws.send_bytes(sync_status(address, True))
            elif mtype == MessageType.AUTH:
                await ws.send_bytes(authenticated(address, "read-write"))
            elif mtype == MessageType.AWARENESS:
                await _relay(joined.get(address) or set(), ws, data)
    finally:
        for address, room in joined.items():
            room.discard(ws)
            if not room:
                rooms.pop(route_name(address), None)
    return ws


async def _y_websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
    await ws.prepare(request)
    rooms = request.app[ROOMS]
    name = request.match_info["room"]
    room = rooms.setdefault(name, set())
    room.add(ws)
    try:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            data: bytes = msg.data
            if data[:2] == bytes([YMessageType.SYNC, SyncType.STEP1]):
                await ws.send_bytes(_Y_STEP2_EMPTY)
                continue
            await _relay(room, ws, data)
    finally:
        room.discard(ws)
        if not room:
            rooms.pop(name, None)
    return ws


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app() -> web.Application:
    app = web.Application()
    app[ROOMS] = {}
    app.router.add_get("/health", _health)
    app.router.add_get("/ws", _hocuspocus)
    app.router.add_get("/ws/{room}", _y_websocket)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp WebSocket relay (benchmark peer)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(
        build_app(), host="127.0.0.1", port=args.port, print=None, access_log=None, shutdown_timeout=2
    )


if __name__ == "__main__":
    main()
