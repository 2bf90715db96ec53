"""Redis pub/sub bus: lifecycle events reach every gateway of a cluster.

What it carries are hints (today: "session deleted", so other gateways drop a cached
placement); no edit, ack or session state rides it. So a Redis outage must cost hints
only: a publish that fails is logged and dropped, and the reader reconnects and
re-subscribes every channel when Redis returns.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .bus import Handler, Subscription

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)


class _RedisSubscription:
    def __init__(self, bus: RedisBus, channel: str, handler: Handler) -> None:
        self._bus = bus
        self._channel = channel
        self._handler = handler

    async def close(self) -> None:
        await self._bus._remove(self._channel, self._handler)


class RedisBus:
    """One pub/sub connection per gateway; handlers are called on the gateway's loop."""

    def __init__(
        self, url: str, prefix: str = "atelier:", retry_min: float = 0.1, retry_max: float = 2.0
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._client: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        # A pooled connection Redis closed while it was away fails once on first use after
        # its return: retried on a fresh connection instead of dropping that message.
        self._client = aioredis.from_url(
            self._url,
            retry=Retry(ExponentialBackoff(cap=self._retry_max, base=self._retry_min), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        await self._client.ping()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def publish(self, channel: str, message: bytes) -> None:
        assert self._client is not None, "bus is not open"
        try:
            await self._client.publish(self._prefix + channel, message)
        except RedisError as exc:
            # A lost hint costs a stale cache the session host corrects; failing the
            # request that already committed its change would cost far more.
            log.warning("bus publish dropped channel=%s: %s", channel, exc)

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        assert self._pubsub is not None, "bus is not open"
        handlers = self._handlers.setdefault(channel, [])
        if not handlers:
            await self._pubsub.subscribe(self._prefix + channel)
        handlers.append(handler)
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="redis-bus")
        return _RedisSubscription(self, channel, handler)

    async def _remove(self, channel: str, handler: Handler) -> None:
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)
        if not handlers and self._pubsub is not None:
            self._handlers.pop(channel, None)
            try:
                await self._pubsub.unsubscribe(self._prefix + channel)
            except RedisError as exc:  # gone with the connection; not re-subscribed on return
                log.info("bus unsubscribe channel=%s during an outage: %s", channel, exc)

    async def _read(self) -> None:
        failing = False
        delay = self._retry_min
        while True:
            try:
                if failing:
                    await self._resubscribe()
                    log.info("bus reconnected channels=%d", len(self._handlers))
                    failing, delay = False, self._retry_min
                await self._pump()
            except RedisError as exc:
                if not failing:
                    log.warning("bus connection lost, retrying every <=%.1fs: %s", self._retry_max, exc)
                failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _resubscribe(self) -> None:
        assert self._client is not None
        await self._client.ping()  # raises while Redis is still away
        old, self._pubsub = self._pubsub, self._client.pubsub(ignore_subscribe_messages=True)
        if old is not None:
            try:
                await old.aclose()
            except RedisError as exc:  # its connection is the one that broke
                log.debug("bus: closing the broken subscription: %s", exc)
        channels = [self._prefix + name for name in self._handlers]
        if channels:
            await self._pubsub.subscribe(*channels)

    async def _pump(self) -> None:
        assert self._pubsub is not None
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            raw = message["channel"]
            name = (raw.decode() if isinstance(raw, bytes) else str(raw))[len(self._prefix) :]
            for handler in list(self._handlers.get(name, ())):
                try:
                    handler(name, message["data"])
                except Exception:  # one bad handler must not stop the bus for the others
                    log.exception("bus handler failed channel=%s", name)
