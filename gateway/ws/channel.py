"""SessionChannel: this gateway's one stream to a session, shared by all its sockets.

Inbound frames of every local connection are batched per event-loop turn into one
``send`` on the session's stream (one link message, however many sockets). Outbound,
the stream carries broadcasts, replies and acknowledgements in the order the session
produced them; this channel fans them out to its bindings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from actors.client import Control, Delivery, Inbound, RealtimeStream, Scope, SessionClient, StreamEnd
from actors.singleflight import SingleFlight

from ..metrics import Metrics
from .connection import CLOSE_RESTART, Binding

__all__ = ["ChannelRegistry", "SessionChannel"]

log = logging.getLogger(__name__)


class SessionChannel:
    def __init__(
        self,
        stream: RealtimeStream,
        *,
        max_batch: int,
        metrics: Metrics,
        on_closed: Callable[[SessionChannel], None],
    ) -> None:
        self.session_id = stream.session_id
        self.owner = stream.owner  # a design session's owner: only they may open its document
        self._stream = stream
        self._max_batch = max_batch
        self._metrics = metrics
        self._on_closed = on_closed
        self.bindings: dict[int, Binding] = {}
        self._pending: list[Inbound] = []
        self._flush_scheduled = False
        self._consumer = asyncio.get_running_loop().create_task(
            self._consume(), name=f"stream:{self.session_id}"
        )
        self.closed = False

    # -- inbound ----------------------------------------------------------------------

    def attach(self, binding: Binding) -> None:
        binding.channel = self
        self.bindings[binding.key] = binding
        self.submit(binding, Control.OPEN, b"")

    def detach(self, binding: Binding) -> None:
        if self.bindings.pop(binding.key, None) is not None:
            self.submit(binding, Control.LEAVE, b"")
        binding.channel = None
        if not self.bindings:
            self._flush()
            self.close()

    def submit(self, binding: Binding, kind: int, payload: bytes) -> None:
        if self.closed:
            return
        self._pending.append((binding.key, kind, payload, binding.writable))
        if not self._flush_scheduled:
            # Every frame read in this loop turn joins the batch.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._pending and not self.closed:
            batch = self._pending[: self._max_batch]
            del self._pending[: len(batch)]
            self._stream.send(batch)
            self._metrics.batch_frames.observe(len(batch))

    # -- outbound ---------------------------------------------------------------------

    async def _consume(self) -> None:
        async for item in self._stream.events():
            if isinstance(item, StreamEnd):
                self._ended(item)
                return
            for event in item:
                self._deliver(event)

    def _deliver(self, event: Delivery) -> None:
        if event.scope == Scope.TO_CONN:
            binding = self.bindings.get(event.conn)
            if binding is not None:
                binding.deliver(event.kind, event.payload)
            return
        # A broadcast is framed once per distinct address (in practice once), and the same
        # bytes go to every socket.
        others = event.scope == Scope.TO_OTHERS
        frames: dict[tuple[bool, str], bytes | None] = {}
        for binding in list(self.bindings.values()):
            if others and (not binding.synced or binding.key == event.conn):
                continue
            key = binding.frame_key
            if key in frames:
                framed = frames[key]
            else:
                framed = frames[key] = binding.framed(event.kind, event.payload)
            binding.deliver(event.kind, event.payload, framed)

    def _ended(self, reason: StreamEnd) -> None:
        if self.closed:
            return
        if reason is StreamEnd.DELETED:
            # The session went away: refuse its documents, keep the sockets.
            for binding in list(self.bindings.values()):
                binding.deny("session-closed")
            self.bindings.clear()
        else:
            self.fail(
                "this gateway fell too far behind the session"
                if reason is StreamEnd.OVERFLOW
                else "the session's host restarted"
            )
        self.close()

    # -- shutdown ---------------------------------------------------------------------

    def fail(self, reason: str) -> None:
        """The stream broke: close our sockets so their clients reconnect and resync."""
        log.info("channel failed session=%s bindings=%d: %s", self.session_id, len(self.bindings), reason)
        for binding in list(self.bindings.values()):
            binding.close()
            binding.connection.close_soon(CLOSE_RESTART, reason)
        self.bindings.clear()
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_closed(self)

    async def stop(self) -> None:
        """Unsubscribe and wait for the consumer to finish."""
        self.close()
        await self._stream.close()
        if self._consumer is not asyncio.current_task():
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)


class ChannelRegistry:
    """This gateway's channels, one per session with local bindings; starts coalesced."""

    def __init__(
        self, client: SessionClient, *, max_batch: int, start_timeout: float, metrics: Metrics
    ) -> None:
        self._client = client
        self._max_batch = max_batch
        self._start_timeout = start_timeout
        self._metrics = metrics
        self._channels: dict[str, SessionChannel] = {}
        self._starting: SingleFlight[str, SessionChannel] = SingleFlight()
        self._stopping: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._channels)

    def get(self, session_id: str) -> SessionChannel | None:
        return self._channels.get(session_id)

    async def channel(self, session_id: str) -> SessionChannel:
        """This gateway's channel to the session, opened on first use (coalesced)."""
        channel = self._channels.get(session_id)
        if channel is None or channel.closed:
            channel = await self._starting.run(session_id, lambda: self._open(session_id))
        return channel

    async def _open(self, session_id: str) -> SessionChannel:
        stream = await asyncio.wait_for(self._client.open_stream(session_id), self._start_timeout)
        channel = SessionChannel(
            stream, max_batch=self._max_batch, metrics=self._metrics, on_closed=self._closed
        )
        self._channels[session_id] = channel
        self._metrics.live_channels.set(len(self._channels))
        return channel

    def _closed(self, channel: SessionChannel) -> None:
        if self._channels.get(channel.session_id) is channel:
            del self._channels[channel.session_id]
        self._metrics.live_channels.set(len(self._channels))
        # Unsubscribing is the stream's business; kept so shutdown can await it.
        task = asyncio.get_running_loop().create_task(channel.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def close_all(self) -> None:
        for channel in list(self._channels.values()):
            channel.close()
        await asyncio.gather(*self._stopping, return_exceptions=True)
