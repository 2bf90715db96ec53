"""Actor-side fan-out: one bounded, ordered event queue per subscribed gateway.

A gateway with sockets on a session holds one stream per session (never one per
socket). Events are appended in the order the actor produced them; a gateway that falls
behind past the limit is cut off with an overflow notice and must resynchronise.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Event", "Fanout", "Subscriber", "CONTROL_CLOSED", "CONTROL_OVERFLOW", "CONTROL_READY"]

log = logging.getLogger(__name__)

# (scope, kind, payload, conn, origin_gateway). Control events use scope -1.
Event = tuple[int, int, bytes, int, str | None]

CONTROL_READY: Event = (-1, 0, b"ready", -1, None)
CONTROL_OVERFLOW: Event = (-1, 1, b"overflow", -1, None)
CONTROL_CLOSED: Event = (-1, 2, b"closed", -1, None)


class Subscriber:
    def __init__(self, gateway_id: str, limit: int, now: float) -> None:
        self.gateway_id = gateway_id
        self._limit = limit
        self._queue: deque[Event] = deque()
        self._wake = asyncio.Event()
        self.closed = False
        self.lease = now

    def push(self, event: Event) -> None:
        if self.closed:
            return
        if len(self._queue) >= self._limit:
            log.warning("subscriber overflow gateway=%s queued=%d", self.gateway_id, len(self._queue))
            self._queue.clear()
            self._queue.append(CONTROL_OVERFLOW)
            self.closed = True
        else:
            self._queue.append(event)
        self._wake.set()

    def close(self) -> None:
        if not self.closed:
            self._queue.append(CONTROL_CLOSED)
            self.closed = True
            self._wake.set()

    async def batches(self, max_batch: int, poll: float) -> AsyncIterator[list[Event]]:
        """Yield queued events in order, at most ``max_batch`` at a time, until closed."""
        yield [CONTROL_READY]
        while True:
            if not self._queue:
                if self.closed:
                    return
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), poll)
                except asyncio.TimeoutError:
                    continue
            batch = [self._queue.popleft() for _ in range(min(max_batch, len(self._queue)))]
            yield batch


class Fanout:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._subscribers: dict[str, Subscriber] = {}

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, gateway_id: str, now: float) -> Subscriber:
        previous = self._subscribers.get(gateway_id)
        if previous is not None:
            previous.close()  # a gateway re-subscribing replaces its old stream
        subscriber = Subscriber(gateway_id, self._limit, now)
        self._subscribers[gateway_id] = subscriber
        return subscriber

    def release(self, subscriber: Subscriber) -> None:
        subscriber.close()
        if self._subscribers.get(subscriber.gateway_id) is subscriber:
            del self._subscribers[subscriber.gateway_id]

    def unsubscribe(self, gateway_id: str) -> None:
        subscriber = self._subscribers.pop(gateway_id, None)
        if subscriber is not None:
            subscriber.close()

    def renew(self, gateway_id: str, now: float) -> bool:
        subscriber = self._subscribers.get(gateway_id)
        if subscriber is None or subscriber.closed:
            return False
        subscriber.lease = now
        return True

    def expire(self, now: float, lease: float) -> list[str]:
        gone = [gid for gid, sub in self._subscribers.items() if now - sub.lease >= lease or sub.closed]
        for gateway_id in gone:
            self.unsubscribe(gateway_id)
        return gone

    def to_gateway(self, gateway_id: str, event: Event) -> None:
        subscriber = self._subscribers.get(gateway_id)
        if subscriber is not None:
            subscriber.push(event)

    def to_all(self, event: Event) -> None:
        for subscriber in list(self._subscribers.values()):
            subscriber.push(event)

    def close_all(self) -> None:
        for gateway_id in list(self._subscribers):
            self.unsubscribe(gateway_id)

    def stats(self) -> dict[str, Any]:
        return {"subscribers": len(self._subscribers)}
