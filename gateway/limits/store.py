"""Where the buckets live: this gateway's memory, or Redis (shared by every gateway).

Redis runs the same refill arithmetic as :mod:`.bucket` in one Lua script against the
server's clock, so gateways on different machines agree. When Redis fails the limiter
keeps going on this gateway's memory (logged once per outage) instead of refusing or
letting everything through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .bucket import ALLOWED, BucketTable, Decision, Rate

__all__ = ["MemoryRateStore", "RateStore", "RedisRateStore"]

log = logging.getLogger(__name__)


class RateStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def take(self, scope: str, key: str, rate: Rate) -> Decision: ...


class MemoryRateStore:
    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._tables: dict[tuple[str, Rate], BucketTable] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._tables.clear()

    def take_now(self, scope: str, key: str, rate: Rate) -> Decision:
        table = self._tables.get((scope, rate))
        if table is None:
            table = self._tables[(scope, rate)] = BucketTable(rate, self._max_keys)
        return table.take(key, self._clock())

    async def take(self, scope: str, key: str, rate: Rate) -> Decision:
        return self.take_now(scope, key, rate)


# KEYS[1] the bucket; ARGV rate, burst, cost. Returns the wait in seconds as a string
# (Lua numbers become integers on the way out).
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(v[1])
local stamp = tonumber(v[2])
if tokens == nil or stamp == nil then tokens = burst; stamp = now end
local elapsed = now - stamp
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = (cost - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateStore:
    def __init__(self, url: str, prefix: str, fallback: MemoryRateStore) -> None:
        self._url = url
        self._prefix = prefix
        self._fallback = fallback
        self._client: aioredis.Redis | None = None
        self._script: object | None = None
        self._degraded = False

    async def open(self) -> None:
        self._client = aioredis.from_url(self._url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(_TAKE)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def take(self, scope: str, key: str, rate: Rate) -> Decision:
        if not rate.enabled:
            return ALLOWED
        script = self._script
        if script is None:
            return self._fallback.take_now(scope, key, rate)
        try:
            raw = await script(  # type: ignore[operator]
                keys=[f"{self._prefix}{scope}:{key}"], args=[rate.per_second, rate.burst, 1]
            )
        except (RedisError, OSError) as exc:
            if not self._degraded:
                log.warning("rate limits fall back to this gateway's memory: redis failed: %s", exc)
                self._degraded = True
            return self._fallback.take_now(scope, key, rate)
        if self._degraded:
            log.info("rate limits shared through redis again")
            self._degraded = False
        wait = float(raw.decode() if isinstance(raw, bytes) else raw)
        return ALLOWED if wait <= 0 else Decision(False, wait)
