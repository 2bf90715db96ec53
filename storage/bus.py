"""The bus that carries what gateways must share (session lifecycle events)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

__all__ = ["Bus", "InProcessBus", "Subscription"]

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]


class Subscription(Protocol):
    async def close(self) -> None: ...


class Bus(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: bytes) -> None: ...

    async def subscribe(self, channel: str, handler: Handler) -> Subscription: ...


class _LocalSubscription:
    def __init__(self, bus: InProcessBus, channel: str, handler: Handler) -> None:
        self._bus = bus
        self._channel = channel
        self._handler = handler

    async def close(self) -> None:
        self._bus._remove(self._channel, self._handler)


class InProcessBus:
    """Delivery within one gateway process: enough when there is only one gateway."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()

    async def publish(self, channel: str, message: bytes) -> None:
        for handler in list(self._handlers.get(channel, ())):
            handler(channel, message)

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        self._handlers.setdefault(channel, []).append(handler)
        return _LocalSubscription(self, channel, handler)

    def _remove(self, channel: str, handler: Handler) -> None:
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)
