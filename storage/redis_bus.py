"""Redis pub/sub bus: lifecycle events reach every gateway of a cluster."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

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

    def __init__(self, url: str, prefix: str = "atelier:") -> None:
        self._url = url
        self._prefix = prefix
        self._client: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._client = aioredis.from_url(self._url)
        await self._client.ping()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def publish(self, channel: str, message: bytes) -> None:
        assert self._client is not None, "bus is not open"
        await self._client.publish(self._prefix + channel, message)

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
            await self._pubsub.unsubscribe(self._prefix + channel)

    async def _read(self) -> None:
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
