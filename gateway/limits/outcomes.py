"""Remembered outcomes of requests sent with an ``Idempotency-Key``: in this gateway's memory,
or in Redis so a retry through another gateway finds them.

A key is first claimed (``pending``, with the request's fingerprint), then either finished
with the outcome or released (an outcome not worth remembering: 5xx, 429). Claiming is
atomic in both stores, so two copies of one request never both run.
"""

from __future__ import annotations

import base64
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["MemoryOutcomes", "Outcome", "OutcomeStore", "RedisOutcomes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    fingerprint: str
    pending: bool = True
    status: int = 0
    content_type: str | None = None
    body: bytes | None = None  # None with a status: answered, but not replayable (a stream)

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "f": self.fingerprint,
                "p": self.pending,
                "s": self.status,
                "c": self.content_type,
                "b": None if self.body is None else base64.b64encode(self.body).decode(),
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Outcome:
        data = orjson.loads(raw)
        body = data.get("b")
        return cls(
            str(data["f"]),
            bool(data["p"]),
            int(data["s"]),
            data.get("c"),
            None if body is None else base64.b64decode(body),
        )


class OutcomeStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Outcome | None:
        """None: the caller now owns ``key`` (pending for ``ttl``); else what is there."""
        ...

    async def finish(self, key: str, outcome: Outcome, ttl: float) -> None: ...

    async def release(self, key: str) -> None: ...


class MemoryOutcomes:
    """Bounded: past ``max_keys`` the oldest outcomes are forgotten before their time."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_keys = max(1, max_keys)
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Outcome]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._items.clear()

    def _get(self, key: str) -> Outcome | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        return item[1]

    def _put(self, key: str, outcome: Outcome, ttl: float) -> None:
        self._items[key] = (self._clock() + ttl, outcome)
        self._items.move_to_end(key)
        while len(self._items) > self._max_keys:
            self._items.popitem(last=False)

    def claim_now(self, key: str, fingerprint: str, ttl: float) -> Outcome | None:
        found = self._get(key)
        if found is not None:
            return found
        self._put(key, Outcome(fingerprint), ttl)
        return None

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Outcome | None:
        return self.claim_now(key, fingerprint, ttl)

    async def finish(self, key: str, outcome: Outcome, ttl: float) -> None:
        self._put(key, outcome, ttl)

    async def release(self, key: str) -> None:
        self._items.pop(key, None)


class RedisOutcomes:
    """``SET NX`` claims; when Redis fails, this gateway's memory carries on (logged once)."""

    def __init__(self, url: str, prefix: str, fallback: MemoryOutcomes) -> None:
        self._url = url
        self._prefix = prefix
        self._fallback = fallback
        self._client: aioredis.Redis | None = None
        self._degraded = False

    async def open(self) -> None:
        self._client = aioredis.from_url(self._url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _failed(self, exc: Exception) -> None:
        if not self._degraded:
            log.warning("idempotency keys fall back to this gateway's memory: redis failed: %s", exc)
            self._degraded = True

    def _ok(self) -> None:
        if self._degraded:
            log.info("idempotency keys shared through redis again")
            self._degraded = False

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Outcome | None:
        if self._client is None:
            return await self._fallback.claim(key, fingerprint, ttl)
        pending = Outcome(fingerprint)
        try:
            while True:
                if await self._client.set(self._prefix + key, pending.to_bytes(), nx=True, px=_ms(ttl)):
                    self._ok()
                    return None
                raw = await self._client.get(self._prefix + key)
                if raw is not None:
                    self._ok()
                    return Outcome.from_bytes(raw if isinstance(raw, bytes) else raw.encode())
                # Expired between SET and GET: claim again.
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.claim(key, fingerprint, ttl)

    async def finish(self, key: str, outcome: Outcome, ttl: float) -> None:
        await self._fallback.finish(
            key, outcome, ttl
        )  # this gateway answers its own retries even if redis fails
        if self._client is None:
            return
        try:
            await self._client.set(self._prefix + key, outcome.to_bytes(), px=_ms(ttl))
            self._ok()
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def release(self, key: str) -> None:
        await self._fallback.release(key)
        if self._client is None:
            return
        try:
            await self._client.delete(self._prefix + key)
            self._ok()
        except (RedisError, OSError) as exc:
            self._failed(exc)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
