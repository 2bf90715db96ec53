"""One WebSocket: its documents (bindings) and its single bounded, ordered outbound queue."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web
from aiohttp.base_protocol import BaseProtocol

from actors.protocol.lib0 import write_var_string, write_var_uint
from actors.protocol.messages import (
    MessageType,
    SyncType,
    YMessageType,
    permission_denied,
)

from .frames import binary_frame

if TYPE_CHECKING:
    from .channel import SessionChannel

__all__ = [
    "CLOSE_RESTART",
    "CLOSE_SLOW_CONSUMER",
    "Binding",
    "BindingState",
    "Connection",
    "IllegalTransition",
]

log = logging.getLogger(__name__)

CLOSE_SLOW_CONSUMER = int(WSCloseCode.TRY_AGAIN_LATER)  # 1013
CLOSE_RESTART = int(WSCloseCode.SERVICE_RESTART)  # 1012
_STEP2 = bytes([SyncType.STEP2])


class BindingState(Enum):
    PENDING = "pending"  # frames queue until auth is decided
    AUTHORIZING = "authorizing"  # its one auth is being decided; frames still queue
    AUTHORIZED = "authorized"
    CLOSED = "closed"


# The only moves a document binding makes; CLOSED is final (closing twice is harmless).
_TRANSITIONS: dict[BindingState, frozenset[BindingState]] = {
    BindingState.PENDING: frozenset({BindingState.AUTHORIZING, BindingState.CLOSED}),
    BindingState.AUTHORIZING: frozenset({BindingState.AUTHORIZED, BindingState.CLOSED}),
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

    @property
    def awaiting_auth(self) -> bool:
        """Frames for the document queue until its auth is decided."""
        return self._state in (BindingState.PENDING, BindingState.AUTHORIZING)

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
            self.connection.send(
                write_var_uint(YMessageType.AUTH) + write_var_uint(0) + write_var_string(reason)
            )
            self.connection.close_soon(4403, reason)
        else:
            self.connection.send(permission_denied(self.address, reason))

    @property
    def frame_key(self) -> tuple[bool, str]:
        """Bindings with equal keys encode a message to the same bytes."""
        return self.connection.plain, self.address

    def framed(self, kind: int, payload: bytes) -> bytes | None:
        """The message as a complete WebSocket frame for this binding (None: not sent here)."""
        message = self.encode(kind, payload)
        return binary_frame(message) if message is not None else None

    def deliver(self, kind: int, payload: bytes, framed: bytes | None = None) -> None:
        """Send one message; ``framed`` is its frame when the caller already built it."""
        if framed is None:
            framed = self.framed(kind, payload)
        if framed is not None:
            self.connection.send_framed(framed)
        if kind == MessageType.SYNC and payload[:1] == _STEP2:
            # Only now may document broadcasts reach this connection.
            self.synced = True


class Connection:
    """The socket's one bounded, ordered outbound buffer; closes are bounded in time.

    Messages arrive as complete WebSocket frames (a broadcast is framed once for all its
    sockets) and wait in a list; once per event-loop turn the list is written to the
    transport in one write. While the transport is paused (the peer reads slower than we
    write), frames stay in the list and count against the socket's limits: past them the
    socket is closed with 1013. A close the peer does not complete within ``close_timeout``
    (it stopped reading, so the close frame sits behind megabytes of unread data) aborts
    the transport: descriptor, kernel buffers and queued frames are released whatever the
    peer does.
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        queue_limit: int,
        queue_bytes: int,
        plain: bool,
        close_timeout: float = 2.0,
        transport: asyncio.Transport | None = None,
        protocol: BaseProtocol | None = None,
        on_slow: Callable[[], None] | None = None,
        on_sent: Callable[[int], None] | None = None,
        on_queued: Callable[[int], None] | None = None,
        on_abort: Callable[[], None] | None = None,
    ) -> None:
        self.ws = ws
        self.plain = plain
        self.bindings: dict[str, Binding] = {}
        self._frames: list[bytes] = []
        self._queue_limit = queue_limit
        self._queue_bytes_limit = queue_bytes
        self._queued_bytes = 0
        self._flush_scheduled = False
        self._drainer: asyncio.Task[None] | None = None
        self._close_timeout = close_timeout
        self._transport = transport
        self._protocol = protocol
        self._on_slow = on_slow
        self._on_sent = on_sent
        self._on_queued = on_queued
        self._on_abort = on_abort
        self._closer: asyncio.Task[None] | None = None
        self.closing = False
        self.aborted = False

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    @property
    def queued_frames(self) -> int:
        return len(self._frames)

    def start(self) -> None:
        """Kept for the lifecycle's symmetry: writes need no task of their own."""

    def send(self, message: bytes) -> None:
        """Send one protocol message (framed here)."""
        self.send_framed(binary_frame(message))

    def send_framed(self, frame: bytes) -> None:
        """Queue one complete frame; it is written with the others of this loop turn."""
        if self.closing:
            return
        if (
            len(self._frames) >= self._queue_limit
            or self._queued_bytes + len(frame) > self._queue_bytes_limit
        ):
            self._slow_consumer()
            return
        self._frames.append(frame)
        self._account(len(frame))
        if not self._flush_scheduled and self._drainer is None:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _slow_consumer(self) -> None:
        log.warning(
            "slow consumer: outbound queue full, closing frames=%d bytes=%d",
            len(self._frames),
            self._queued_bytes,
        )
        if self._on_slow is not None:
            self._on_slow()
        # Nothing queued will be sent now: free it at once, not when the peer reads.
        self._drop_queue()
        self.close_soon(CLOSE_SLOW_CONSUMER, "slow consumer: outbound queue overflow")

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.closing or not self._frames:
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            log.info("ws transport gone, closing")
            self.closing = True
            self._drop_queue()
            return
        if self._protocol is not None and self._protocol.writing_paused:
            # The peer is behind: keep the frames (they count against the limits) until the
            # transport drains.
            self._drainer = asyncio.get_running_loop().create_task(self._drain(), name="ws-drain")
            return
        frames, self._frames = self._frames, []
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        self._account(-len(data))
        transport.write(data)
        if self._on_sent is not None:
            self._on_sent(len(frames))

    async def _drain(self) -> None:
        assert self._protocol is not None
        try:
            await self._protocol._drain_helper()  # aiohttp's own writer waits on it the same way
        except ConnectionError as exc:
            log.info("ws drain failed, closing: %s", exc)
            self.closing = True
            self._drop_queue()
            return
        finally:
            self._drainer = None
        self._flush()

    def _account(self, delta: int) -> None:
        self._queued_bytes += delta
        if self._on_queued is not None:
            self._on_queued(delta)

    def _drop_queue(self) -> None:
        # A drainer is left alone: blocked in a drain, it shares aiohttp's drain waiter with
        # the close, and cancelling it would cancel the close too. The abort frees it.
        self._frames.clear()
        self._account(-self._queued_bytes)

    def close_soon(self, code: int, reason: str) -> None:
        """Close after what is already queued (a denial, then its close)."""
        if self.closing:
            return
        if self._drainer is None:
            self._flush()
        self.closing = True
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason), name="ws-close")

    async def close(self, code: int, reason: str) -> None:
        """Close now (bounded by the close timeout); queued frames are dropped."""
        self._drop_queue()
        self.close_soon(code, reason)
        if self._closer is not None:
            await asyncio.shield(self._closer)

    async def _close(self, code: int, reason: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._close_timeout
        sock = self._socket()
        buffered = self._transport.get_write_buffer_size() if self._transport is not None else 0
        if sock is not None and buffered == 0 and hasattr(socket, "TCP_USER_TIMEOUT"):
            # Nothing waits in the transport, so aiohttp will close the descriptor as soon as the
            # close frame is written, leaving the kernel an orphan with whatever the peer has not
            # read: bound how long the kernel keeps trying. (With bytes waiting, the descriptor
            # stays open and the abort below frees everything.)
            sock.setsockopt(
                socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, max(1, int(self._close_timeout * 1000))
            )
        try:
            await asyncio.wait_for(
                self.ws.close(code=code, message=reason.encode()[:123]), self._close_timeout
            )
        except (TimeoutError, ConnectionError, RuntimeError) as exc:
            log.info("close not completed code=%d: %r", code, exc)
        # A close frame sent is not a close done: the transport keeps flushing what the peer has
        # not read. Give it the rest of the timeout, then abort.
        # The transport closes its socket once the kernel took the last byte; nothing signals
        # that, so poll (bounded by the close timeout, only for a socket being closed).
        while self._open(sock) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self._open(sock):
            log.info(
                "peer did not finish the close within %.1fs, aborting code=%d", self._close_timeout, code
            )
            self.abort()

    def _socket(self) -> socket.socket | None:
        if self._transport is None:
            return None
        sock = self._transport.get_extra_info("socket")
        return sock if sock is not None and sock.fileno() != -1 else None

    @staticmethod
    def _open(sock: socket.socket | None) -> bool:
        return sock is not None and sock.fileno() != -1

    def abort(self) -> None:
        """Drop the transport and everything queued for it."""
        self.closing = True
        self._drop_queue()
        if self.aborted:
            return
        self.aborted = True
        if self._on_abort is not None:
            self._on_abort()
        sock = self._socket()
        if sock is not None:
            # Linger 0: the kernel drops the unsent bytes and resets, instead of keeping an
            # orphaned socket with megabytes queued for a peer that never reads.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if self._transport is not None:
            self._transport.abort()

    async def stop(self) -> None:
        self.closing = True
        if self._closer is not None:
            await asyncio.gather(self._closer, return_exceptions=True)  # bounded by the close timeout
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        self._drop_queue()
