"""One benchmark editor: a WebSocket client that appends timestamped markers at a set rate.

The client speaks either wire protocol (see ``benchmarks.wire``), records every marker it
receives from other clients and, in Hocuspocus mode, the latency of each SyncStatus ack
(acks arrive in send order, so a FIFO of send times matches them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

import aiohttp

from actors.protocol.messages import ProtocolError

from ..markers import MARKER_FIELD, encode_marker
from ..wire import Kind, make_wire
from ..ytext import EMPTY_UPDATE, TextAppender
from .plan import ClientPlan, StepPlan
from .recorder import Recorder

__all__ = ["EditorClient", "SendBudget"]

log = logging.getLogger(__name__)

# Yield to the receive loops at least this often while catching up on a late schedule.
_CATCH_UP_BURST = 16


class SendBudget:
    """A worker-wide cap on the edits of one step (the hard bound on total messages)."""

    __slots__ = ("remaining",)

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class EditorClient:
    def __init__(self, plan: ClientPlan, http: aiohttp.ClientSession, recorder: Recorder) -> None:
        self.plan = plan
        self.cid = plan.cid
        self._http = http
        self._recorder = recorder
        self._wire = make_wire(plan.protocol, plan.document, plan.token)
        self._text = TextAppender(plan.yjs_client_id, MARKER_FIELD)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending_acks: deque[int | None] = deque()
        self._authenticated = asyncio.Event()
        self._synced = asyncio.Event()
        self._failed: str | None = None
        self._closing = False
        self.seq = 0
        # permessage-deflate agreed in the handshake (offered only with ``compress``)
        self.compressed = False

    @property
    def acks(self) -> bool:
        return self._wire.acks

    @property
    def pending_acks(self) -> int:
        return len(self._pending_acks)

    @property
    def open(self) -> bool:
        return self._ws is not None and not self._ws.closed and self._failed is None

    async def connect(self, *, compress: bool, max_frame_bytes: int, wait_synced: bool) -> int:
        """Open the socket and sync; returns the nanoseconds from connect to synced."""
        started = time.monotonic_ns()
        self._ws = await self._http.ws_connect(
            self.plan.url,
            compress=15 if compress else 0,
            max_msg_size=max_frame_bytes,
            autoping=True,
        )
        self.compressed = bool(self._ws.compress)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        for frame in self._wire.hello(self._text.state_vector()):
            await self._ws.send_bytes(frame)
        if wait_synced:
            if self._wire.acks:
                await self._wait(self._authenticated)
            await self._wait(self._synced)
        return time.monotonic_ns() - started

    async def _wait(self, event: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(event.wait())
        assert self._reader is not None
        done, _ = await asyncio.wait({waiter, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            raise ConnectionError(self._failed or "socket closed during the handshake")
        if self._failed is not None:
            raise ConnectionError(self._failed)

    async def send_loop(self, step: StepPlan, budget: SendBudget, phase: float) -> None:
        """Send edits on an open-loop schedule: due times are fixed, lateness is recorded."""
        ws = self._ws
        if ws is None or step.client_rate <= 0:
            return
        interval_ns = int(1e9 / step.client_rate)
        due = step.start_ns + int(phase * interval_ns)
        end = step.start_ns + int(step.duration * 1e9)
        limit = step.edits_per_client or None
        count = 0
        burst = 0
        recorder = self._recorder
        while (due < end if limit is None else count < limit) and self.open:
            now = time.monotonic_ns()
            if due > now:
                burst = 0
                await asyncio.sleep((due - now) / 1e9)
                now = time.monotonic_ns()
            else:
                burst += 1
                if burst >= _CATCH_UP_BURST:
                    burst = 0
                    await asyncio.sleep(0)
            if not budget.take():
                break
            frame = self._edit(step.step, now)
            try:
                await ws.send_bytes(frame)
            except (ConnectionError, RuntimeError) as exc:
                recorder.error(f"client {self.cid}: send failed: {exc}")
                break
            recorder.sent(self.cid, now, now - due)
            count += 1
            due += interval_ns

    def _edit(self, step: int, now_ns: int) -> bytes:
        marker = encode_marker(step, self.cid, self.seq, now_ns)
        self.seq += 1
        update = self._text.append(marker)
        if self._wire.acks:
            self._pending_acks.append(now_ns)
        return self._wire.update(update)

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        recorder = self._recorder
        wire = self._wire
        cid = self.cid
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        self._fail(f"client {cid}: unexpected text frame")
                    continue
                now = time.monotonic_ns()
                data: bytes = msg.data
                try:
                    incoming = wire.parse(data)
                except ProtocolError as exc:
                    self._fail(f"client {cid}: undecodable frame: {exc}")
                    continue
                kind = incoming.kind
                if kind is Kind.UPDATE:
                    recorder.deliver(cid, incoming.body, now)
                elif kind is Kind.ACK:
                    if self._pending_acks:
                        sent = self._pending_acks.popleft()
                        recorder.ack(None if sent is None else now - sent, incoming.ok)
                    else:
                        recorder.error(f"client {cid}: SyncStatus without a pending update")
                elif kind is Kind.STEP1:
                    # The server's state vector: answer with what it lacks. Clients sync
                    # before anyone edits, and later edits all went out as updates already.
                    if wire.acks:
                        self._pending_acks.append(None)
                    await ws.send_bytes(wire.step2(EMPTY_UPDATE))
                elif kind is Kind.STEP2:
                    if incoming.body:
                        recorder.deliver(cid, incoming.body, now)
                    self._synced.set()
                elif kind is Kind.AUTHENTICATED:
                    self._authenticated.set()
                elif kind is Kind.DENIED:
                    self._fail(f"client {cid}: permission denied: {incoming.reason}")
                    break
        except (aiohttp.ClientError, ConnectionError) as exc:
            if not self._closing:
                self._fail(f"client {cid}: connection error: {exc}")
        finally:
            if not self._closing and self._failed is None:
                self._fail(f"client {cid}: socket closed by the server (code {ws.close_code})")

    def _fail(self, message: str) -> None:
        if self._failed is None:
            self._failed = message
        self._recorder.error(message)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None and not self._ws.closed:
            # The socket is being torn down either way.
            with contextlib.suppress(asyncio.TimeoutError, aiohttp.ClientError, ConnectionError):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
