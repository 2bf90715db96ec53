"""A link: one persistent, ordered WebSocket between two processes of the cluster.

Both ends are the same object. Messages are sent in the order they were queued, by one
writer task that packs everything queued meanwhile into one frame and waits for the
socket to drain before the next (backpressure). The queue is bounded: a link whose
peer stops reading is closed rather than allowed to grow, and everything that used it
learns so (pending requests fail with ``LinkClosed``, close callbacks run), so nothing
that rides a link is ever silently stale.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType

from .codec import ENCODE_ERRORS, CodecError, Kind, Message, decode_batch, encode_batch, encode_each

__all__ = ["Link", "LinkClosed", "RemoteFailure", "Socket"]

log = logging.getLogger(__name__)


class LinkClosed(ConnectionError):
    """The link is gone: a request's outcome on the other side is unknown."""


class RemoteFailure(Exception):
    """The other side answered a request with an error: ``(type name, message, detail)``;
    ``detail`` is whatever the error's wire form carries (``actors/core/errors.py``)."""

    def __init__(self, kind: str, message: str, detail: Any) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.detail = detail


class Socket(Protocol):
    """What a link needs of aiohttp's client and server WebSockets alike."""

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None: ...

    async def receive(self, timeout: float | None = None) -> Any: ...  # noqa: ASYNC109 (mirrors aiohttp's WebSocketResponse.receive)

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool: ...


Handler = Callable[["Link", Message], None]

_ids = itertools.count(1)


class Link:
    def __init__(
        self,
        ws: Socket,
        *,
        name: str,
        max_queue: int,
        max_batch: int,
        handler: Handler | None = None,
        peer: str = "",
    ) -> None:
        self.id = next(_ids)
        self.name = name
        # The dialling process, the same across its redials (empty: not told).
        self.peer = peer
        self._ws = ws
        self._max_queue = max_queue
        self._max_batch = max_batch
        self.handler = handler
        self._queue: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._requests: dict[int, asyncio.Future[Any]] = {}
        self._next_request = itertools.count(1)
        self._writer: asyncio.Task[None] | None = None
        self._close_callbacks: list[Callable[[Link], None]] = []
        self.closed = False
        self.close_reason = ""
        self.frames_out = 0
        self.frames_in = 0

    def __repr__(self) -> str:
        return f"<Link {self.name} #{self.id}{' closed' if self.closed else ''}>"

    @property
    def queued(self) -> int:
        return len(self._queue)

    def on_close(self, callback: Callable[[Link], None]) -> None:
        if self.closed:
            callback(self)
        else:
            self._close_callbacks.append(callback)

    # -- sending ----------------------------------------------------------------------

    def _put(self, message: Message) -> None:
        if self.closed:
            raise LinkClosed(f"link {self.name} is closed: {self.close_reason}")
        if len(self._queue) >= self._max_queue:
            self._abort(f"peer fell {len(self._queue)} messages behind")
            raise LinkClosed(f"link {self.name} overflowed")
        self._queue.append(message)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write(), name=f"link-writer:{self.name}"
            )
        self._wake.set()

    def notify(self, topic: int, args: list[Any]) -> None:
        self._put([Kind.NOTIFY, topic, args])

    async def request(self, method: int | str, args: list[Any]) -> Any:
        request_id = next(self._next_request)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._requests[request_id] = fut
        try:
            self._put([Kind.REQUEST, request_id, method, args])
            return await fut
        finally:
            self._requests.pop(request_id, None)

    def reply(self, request_id: int, value: Any) -> None:
        if not self.closed:
            self._put([Kind.REPLY, request_id, value])

    def fail(self, request_id: int, kind: str, message: str, detail: Any = None) -> None:
        if not self.closed:
            self._put([Kind.FAILURE, request_id, [kind, message, detail]])

    async def _write(self) -> None:
        try:
            while not self.closed:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                count = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
                await self._ws.send_bytes(self._encode(batch))
                self.frames_out += 1
        except (ConnectionError, RuntimeError) as exc:
            self._abort(f"write failed: {exc}")

    def _encode(self, batch: list[Message]) -> bytes:
        try:
            return encode_batch(batch)
        except ENCODE_ERRORS:
            # Rare: pack one by one to find the messages that cannot be packed.
            data, bad = encode_each(batch)
        for message, exc in bad:
            self._unsendable(message, exc)
        return data

    def _unsendable(self, message: Message, exc: Exception) -> None:
        """A message that cannot be packed costs itself only, never the link."""
        log.warning("link %s: message kind=%s cannot be encoded: %s", self.name, message[0], exc)
        if message[0] == Kind.REQUEST:
            fut = self._requests.get(message[1])
            if fut is not None and not fut.done():
                fut.set_exception(ValueError(f"request cannot be encoded: {exc}"))
        elif message[0] == Kind.REPLY:
            # The caller waits for an answer: tell it why there is none.
            self._queue.append(
                [Kind.FAILURE, message[1], ["ValueError", f"reply cannot be encoded: {exc}", None]]
            )

    # -- receiving --------------------------------------------------------------------

    async def run(self) -> None:
        """Read until the link closes; then fail what waits on it and run close callbacks."""
        reason = "closed by peer"
        try:
            while not self.closed:
                msg = await self._ws.receive()
                if msg.type == WSMsgType.BINARY:
                    self.frames_in += 1
                    try:
                        batch = decode_batch(msg.data)
                    except CodecError as exc:
                        reason = str(exc)
                        break
                    for message in batch:
                        self._dispatch(message)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                else:
                    reason = f"unexpected {msg.type.name} frame"
                    break
        except (ConnectionError, RuntimeError) as exc:
            reason = f"read failed: {exc}"
        finally:
            self._abort(reason)
            await self._ws.close()

    def _dispatch(self, message: Message) -> None:
        kind = message[0]
        if kind == Kind.REPLY or kind == Kind.FAILURE:
            fut = self._requests.get(message[1])
            if fut is None or fut.done():
                return  # its caller gave up
            if kind == Kind.REPLY:
                fut.set_result(message[2])
            else:
                fut.set_exception(RemoteFailure(*message[2]))
        elif self.handler is not None:
            self.handler(self, message)

    # -- closing ----------------------------------------------------------------------

    def _abort(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        log.info("link closed name=%s: %s", self.name, reason)
        self._queue.clear()
        self._wake.set()
        for fut in self._requests.values():
            if not fut.done():
                fut.set_exception(LinkClosed(f"link {self.name} closed: {reason}"))
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            callback(self)

    async def close(self, reason: str = "closed") -> None:
        self._abort(reason)
        writer = self._writer
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        await self._ws.close()
