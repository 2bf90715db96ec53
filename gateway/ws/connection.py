"""One WebSocket: its documents (bindings) and its single bounded, ordered outbound queue."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from actors.protocol.lib0 import write_var_string, write_var_uint
from actors.protocol.messages import (
    MessageType,
    SyncType,
    YMessageType,
    permission_denied,
)

if TYPE_CHECKING:
    from .channel import SessionChannel

__all__ = ["Binding", "BindingState", "Connection", "IllegalTransition", "CLOSE_SLOW_CONSUMER", "CLOSE_RESTART"]

log = logging.getLogger(__name__)

CLOSE_SLOW_CONSUMER = int(WSCloseCode.TRY_AGAIN_LATER)  # 1013
CLOSE_RESTART = int(WSCloseCode.SERVICE_RESTART)  # 1012
_STEP2 = bytes([SyncType.STEP2])


class BindingState(Enum):
    PENDING = "pending"  # frames queue until auth is decided
    AUTHORIZED = "authorized"
    CLOSED = "closed"


# The only moves a document binding makes; CLOSED is final (closing twice is harmless).
_TRANSITIONS: dict[BindingState, frozenset[BindingState]] = {
    BindingState.PENDING: frozenset({BindingState.AUTHORIZED, BindingState.CLOSED}),
    BindingState.AUTHORIZED: frozenset({BindingState.CLOSED}),
    BindingState.CLOSED: frozenset({BindingState.CLOSED}),
}


class IllegalTransition(RuntimeError):
    def __init__(self, current: BindingState, target: BindingState) -> None:
        super().__init__(f"binding cannot move from {current.value} to {target.value}")


class Binding:
    """A document opened on a connection (Hocuspocus multiplexes many per socket)."""

    def __init__(self, connection: Connection, address: str, session_id: str) -> None:
        self.connection = connection
        self.address = address
        self.session_id = session_id
        # Unique across gateways: the actor keys awareness ownership and replies by it.
        self.key = random.getrandbits(62)
        self._state = BindingState.PENDING
        self.writable = False
        self.synced = False
        self.queued: list[tuple[int, bytes]] = []
        self.channel: SessionChannel | None = None
        self._prefixes: dict[int, bytes] = {}

    @property
    def state(self) -> BindingState:
        return self._state

    def move(self, target: BindingState) -> None:
        if target not in _TRANSITIONS[self._state]:
            raise IllegalTransition(self._state, target)
        self._state = target

    def close(self) -> None:
        self.move(BindingState.CLOSED)

    def encode(self, kind: int, payload: bytes) -> bytes | None:
        if self.connection.plain:
            # y-websocket has no address, no SyncStatus and no stateless messages.
            if kind in (YMessageType.SYNC, YMessageType.AWARENESS, YMessageType.AUTH):
                return write_var_uint(kind) + payload
            return None
        prefix = self._prefixes.get(kind)
        if prefix is None:
            prefix = self._prefixes[kind] = write_var_string(self.address) + write_var_uint(kind)
        return prefix + payload

    def deny(self, reason: str) -> None:
        """Refuse this document only; the socket stays up for the others."""
        self.close()
        self.connection.bindings.pop(self.address, None)
        if self.connection.plain:
            # y-websocket: auth message, permission-denied, reason; then the socket goes.
            self.connection.send(write_var_uint(YMessageType.AUTH) + write_var_uint(0) + write_var_string(reason))
            self.connection.close_soon(4403, reason)
        else:
            self.connection.send(permission_denied(self.address, reason))

    def deliver(self, kind: int, payload: bytes) -> None:
        frame = self.encode(kind, payload)
        if frame is not None:
            self.connection.send(frame)
        if kind == MessageType.SYNC and payload[:1] == _STEP2:
            # Only now may document broadcasts reach this connection.
            self.synced = True


class Connection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        queue_limit: int,
        queue_bytes: int,
        plain: bool,
        on_slow: Callable[[], None] | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.ws = ws
        self.plain = plain
        self.bindings: dict[str, Binding] = {}
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=queue_limit)
        self._queue_bytes_limit = queue_bytes
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._on_slow = on_slow
        self._on_sent = on_sent
        self._closer: asyncio.Task[bool] | None = None
        self.closing = False

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write(), name="ws-writer")

    def send(self, frame: bytes) -> None:
        if self.closing:
            return
        try:
            if self._queued_bytes + len(frame) > self._queue_bytes_limit:
                raise asyncio.QueueFull
            self._queue.put_nowait(frame)
            self._queued_bytes += len(frame)
        except asyncio.QueueFull:
            log.warning(
                "slow consumer: outbound queue full, closing frames=%d bytes=%d",
                self._queue.qsize(),
                self._queued_bytes,
            )
            if self._on_slow is not None:
                self._on_slow()
            self.close_soon(CLOSE_SLOW_CONSUMER, "slow consumer: outbound queue overflow")

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self._closer = asyncio.get_running_loop().create_task(
            self.ws.close(code=code, message=reason.encode()), name="ws-close"
        )

    async def _write(self) -> None:
        sent = 0
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            self._queued_bytes -= len(frame)
            try:
                await self.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError) as exc:
                log.info("ws write failed, closing: %s", exc)
                self.closing = True
                return
            sent += 1
            if self._on_sent is not None and self._queue.empty():
                self._on_sent(sent)
                sent = 0

    async def stop(self) -> None:
        self.closing = True
        tasks = [task for task in (self._writer, self._closer) if task is not None]
        if self._writer is not None:
            self._writer.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
