"""Token buckets and concurrency slots: pure arithmetic over an injected clock (no I/O).

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; each
request takes one. When none is left the answer is how long until one is (``Retry-After``).
Tables of buckets are keyed (an IP, a user) and bounded: the least recently used key is
forgotten first, which can only ever be generous to the forgotten client.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Bucket", "BucketTable", "Decision", "Rate", "SlotTable", "retry_after_header"]


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` tokens refilled per second, at most ``burst`` held; 0 disables the limit."""

    per_second: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.burst > 0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until a token is available; 0.0 when allowed


ALLOWED = Decision(True, 0.0)


@dataclass(slots=True)
class Bucket:
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: Rate, now: float) -> Bucket:
        return cls(float(rate.burst), now)

    def take(self, rate: Rate, now: float, cost: float = 1.0) -> Decision:
        """Refill for the time since the last take, then take ``cost`` tokens if there are."""
        elapsed = max(0.0, now - self.stamp)  # a clock that steps back refills nothing
        self.tokens = min(float(rate.burst), self.tokens + elapsed * rate.per_second)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return ALLOWED
        return Decision(False, (cost - self.tokens) / rate.per_second)


class BucketTable:
    """One bucket per key, at most ``max_keys`` of them (least recently used forgotten)."""

    def __init__(self, rate: Rate, max_keys: int) -> None:
        self.rate = rate
        self._max_keys = max(1, max_keys)
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float, cost: float = 1.0) -> Decision:
        if not self.rate.enabled:
            return ALLOWED
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket.full(self.rate, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(self.rate, now, cost)


class SlotTable:
    """Concurrent holders per key (open sockets, live streams), at most ``limit`` each; 0: unlimited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}

    def held(self, key: str) -> int:
        return self._held.get(key, 0)

    def total(self) -> int:
        return sum(self._held.values())

    def acquire(self, key: str) -> bool:
        count = self._held.get(key, 0)
        if self.limit > 0 and count >= self.limit:
            return False
        self._held[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._held.get(key, 0) - 1
        if count > 0:
            self._held[key] = count
        else:
            self._held.pop(key, None)  # releasing more than acquired stays at zero


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` is whole seconds (RFC 9110), never 0 for a refusal."""
    return str(max(1, math.ceil(seconds)))
