"""SessionChannel: this gateway's one link to a session actor, shared by all its sockets.

Inbound frames of every local connection are batched per event-loop turn into one actor
call (one call in flight at a time keeps them in order and lets the next batch grow while
it runs). Outbound, one Ray stream per gateway per session carries broadcasts, replies
and acknowledgements in the order the actor produced them; this channel fans them out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from actors.core.sync import Control, Inbound, Scope
from actors.directory import SessionDirectory
from actors.singleflight import SingleFlight

from ..metrics import Metrics
from .connection import CLOSE_RESTART, Binding, BindingState

__all__ = ["ChannelRegistry", "SessionChannel"]

log = logging.getLogger(__name__)


class SessionChannel:
    def __init__(
        self,
        session_id: str,
        gateway_id: str,
        directory: SessionDirectory,
        *,
        max_batch: int,
        lease: float,
        backpressure: int,
        metrics: Metrics,
        on_closed: Callable[[SessionChannel], None],
    ) -> None:
        self._backpressure = backpressure
        self.session_id = session_id
        self._gateway_id = gateway_id
        self._directory = directory
        self._max_batch = max_batch
        self._lease = lease
        self._metrics = metrics
        self._on_closed = on_closed
        self.bindings: dict[int, Binding] = {}
        self._pending: list[Inbound] = []
        self._sender: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._handle: Any = None
        self._stream: Any = None
        self.closed = False

    async def start(self, timeout: float) -> None:
        """Subscribe; returns once the actor has registered this gateway's stream."""
        self._handle = await self._directory.handle_for(self.session_id)
        # Backpressure bounds what Ray buffers between the actor and us; past it the
        # actor's own bounded queue overflows and this gateway is told to resync.
        self._stream = self._handle.subscribe.options(
            num_returns="streaming", _generator_backpressure_num_objects=self._backpressure
        ).remote(self.session_id, self._gateway_id)
        try:
            first = await asyncio.wait_for(self._stream.__anext__(), timeout)
            await asyncio.wait_for(first, timeout)
        except RayTaskError as exc:
            self._directory.forget(self.session_id)
            raise exc.cause from None
        except RayError as exc:
            self._directory.forget(self.session_id)
            raise ConnectionError(f"session actor unavailable: {exc}") from exc
        loop = asyncio.get_running_loop()
        self._consumer = loop.create_task(self._consume(), name=f"stream:{self.session_id}")
        self._keepalive = loop.create_task(self._renew(), name=f"lease:{self.session_id}")

    # -- inbound ----------------------------------------------------------------------

    def attach(self, binding: Binding) -> None:
        binding.channel = self
        self.bindings[binding.key] = binding
        self.submit(binding, Control.OPEN, b"")

    def detach(self, binding: Binding) -> None:
        if self.bindings.pop(binding.key, None) is not None:
            self.submit(binding, Control.LEAVE, b"")
        binding.channel = None

    def submit(self, binding: Binding, kind: int, payload: bytes) -> None:
        if self.closed:
            return
        self._pending.append((binding.key, kind, payload, binding.writable))
        if self._sender is None:
            # Scheduled, not awaited: every frame read in this loop turn joins the batch.
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        try:
            await asyncio.sleep(0)
            while self._pending and not self.closed:
                batch = self._pending[: self._max_batch]
                del self._pending[: len(batch)]
                started = time.perf_counter()
                try:
                    await self._handle.handle_frames.remote(self.session_id, self._gateway_id, batch)
                except RayError as exc:
                    log.warning("frame batch failed session=%s frames=%d: %s", self.session_id, len(batch), exc)
                    self.fail("session actor failed")
                    return
                self._metrics.actor_calls.observe(time.perf_counter() - started)
                self._metrics.batch_frames.observe(len(batch))
                if not self.bindings and not self._pending:
                    self.close()
        finally:
            self._sender = None

    # -- outbound ---------------------------------------------------------------------

    async def _consume(self) -> None:
        try:
            async for ref in self._stream:
                events = await ref
                for event in events:
                    self._deliver(event)
                if self.closed:
                    return
        except RayError as exc:
            log.warning("stream broke session=%s: %s", self.session_id, exc)
        if not self.closed:
            self.fail("session stream ended")

    def _deliver(self, event: tuple[int, int, bytes, int, str | None]) -> None:
        scope, kind, payload, conn, origin_gateway = event
        if scope == Scope.TO_CONN:
            binding = self.bindings.get(conn)
            if binding is not None:
                binding.deliver(kind, payload)
        elif scope == Scope.TO_OTHERS:
            local_origin = conn if origin_gateway == self._gateway_id else None
            for binding in list(self.bindings.values()):
                if binding.synced and binding.key != local_origin:
                    binding.deliver(kind, payload)
        elif scope == Scope.TO_ALL:
            for binding in list(self.bindings.values()):
                binding.deliver(kind, payload)
        elif payload == b"overflow":
            self.fail("this gateway fell too far behind the session")
        elif payload == b"closed":
            # The session went away (deleted): refuse its documents, keep the sockets.
            for binding in list(self.bindings.values()):
                binding.deny("session-closed")
            self.bindings.clear()
            self.close()

    async def _renew(self) -> None:
        while not self.closed:
            await asyncio.sleep(self._lease / 3)
            try:
                alive = await self._handle.keepalive.remote(self.session_id, self._gateway_id)
            except RayError:
                alive = False
            if not alive and not self.closed:
                self.fail("session subscription lost")

    # -- shutdown ---------------------------------------------------------------------

    def fail(self, reason: str) -> None:
        """The actor link broke: close our sockets so their clients reconnect and resync."""
        log.info("channel failed session=%s bindings=%d: %s", self.session_id, len(self.bindings), reason)
        for binding in list(self.bindings.values()):
            binding.state = BindingState.CLOSED
            binding.connection.close_soon(CLOSE_RESTART, reason)
        self.bindings.clear()
        self._directory.forget(self.session_id)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_closed(self)
        loop = asyncio.get_running_loop()
        loop.create_task(self._shutdown())

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        if self._handle is not None:
            try:
                await self._handle.unsubscribe.remote(self.session_id, self._gateway_id)
            except RayError as exc:
                log.debug("unsubscribe failed session=%s: %s", self.session_id, exc)
        for task in (self._keepalive, self._consumer):
            if task is not None and task is not current:
                task.cancel()
        if self._stream is not None:
            try:
                ray.cancel(self._stream)
            except (RayError, TypeError, ValueError) as exc:
                log.debug("stream cancel session=%s: %s", self.session_id, exc)


class ChannelRegistry:
    """This gateway's channels, one per session with local bindings; starts coalesced."""

    def __init__(
        self,
        gateway_id: str,
        directory: SessionDirectory,
        *,
        max_batch: int,
        lease: float,
        start_timeout: float,
        backpressure: int,
        metrics: Metrics,
    ) -> None:
        self.gateway_id = gateway_id
        self._backpressure = backpressure
        self._directory = directory
        self._max_batch = max_batch
        self._lease = lease
        self._start_timeout = start_timeout
        self._metrics = metrics
        self._channels: dict[str, SessionChannel] = {}
        self._starting: SingleFlight[str, SessionChannel] = SingleFlight()

    def __len__(self) -> int:
        return len(self._channels)

    def get(self, session_id: str) -> SessionChannel | None:
        return self._channels.get(session_id)

    async def attach(self, binding: Binding) -> SessionChannel:
        channel = self._channels.get(binding.session_id)
        if channel is None or channel.closed:
            channel = await self._start(binding.session_id)
        channel.attach(binding)
        return channel

    async def _start(self, session_id: str) -> SessionChannel:
        return await self._starting.run(session_id, lambda: self._open(session_id))

    async def _open(self, session_id: str) -> SessionChannel:
        channel = SessionChannel(
            session_id,
            self.gateway_id,
            self._directory,
            max_batch=self._max_batch,
            lease=self._lease,
            backpressure=self._backpressure,
            metrics=self._metrics,
            on_closed=self._closed,
        )
        await channel.start(self._start_timeout)
        self._channels[session_id] = channel
        self._metrics.live_channels.set(len(self._channels))
        return channel

    def _closed(self, channel: SessionChannel) -> None:
        if self._channels.get(channel.session_id) is channel:
            del self._channels[channel.session_id]
        self._metrics.live_channels.set(len(self._channels))

    def fail(self, session_id: str, reason: str) -> None:
        channel = self._channels.get(session_id)
        if channel is not None:
            channel.fail(reason)

    async def close_all(self) -> None:
        for channel in list(self._channels.values()):
            channel.close()
