"""Signed webhooks: events built and signed (pure), delivered from the session's host.

Each event is POSTed as JSON to every target with these headers::

    Atelier-Webhook-Id         the event id (a retry repeats it: deduplicate on it)
    Atelier-Webhook-Event      session.created | session.changed | session.deleted |
                               presence.joined | presence.left
    Atelier-Webhook-Timestamp  Unix seconds when this attempt was sent
    Atelier-Webhook-Signature  sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

The deliverer lives in the host process that holds the sessions, so each event is sent
once however many gateways there are. ``emit`` only appends to a bounded per-target queue
(the oldest event is dropped when it is full): it never waits, so an edit or its ack is
never delayed by a slow target. One task per target sends in order and retries with
exponential backoff; a failing target is logged once when it starts failing and once when
it recovers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from storage.clock import utc_now_iso

from .settings import WebhookSettings

__all__ = [
    "EVENT_HEADER",
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookDeliverer",
    "make_event",
    "sign",
    "verify",
]

log = logging.getLogger(__name__)

ID_HEADER = "Atelier-Webhook-Id"
EVENT_HEADER = "Atelier-Webhook-Event"
TIMESTAMP_HEADER = "Atelier-Webhook-Timestamp"
SIGNATURE_HEADER = "Atelier-Webhook-Signature"


def make_event(kind: str, session_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "type": kind,
        "createdAt": utc_now_iso(),
        "sessionId": session_id,
        "data": data,
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300.0
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature (constant time)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


@dataclass(slots=True)
class _Target:
    url: str
    queue: deque[tuple[str, str, bytes]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failing: bool = False
    failed_attempts: int = 0
    overflowing: bool = False


class WebhookDeliverer:
    def __init__(self, settings: WebhookSettings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._targets = [_Target(url) for url in settings.targets]
        self._http: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    @property
    def enabled(self) -> bool:
        return bool(self._targets)

    def start(self) -> None:
        if self._workers or not self._targets:
            return
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._settings.timeout))
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._run(t), name=f"webhook:{t.url}") for t in self._targets]

    async def stop(self) -> None:
        """Stops sending; events still queued are dropped (webhooks are at-most-retried)."""
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._http is not None:
            await self._http.close()
            self._http = None

    def emit(self, event: dict[str, Any]) -> None:
        """Queue an event for every target; never waits."""
        if not self._targets:
            return
        body = orjson.dumps(event)
        item = (str(event["id"]), str(event["type"]), body)
        for target in self._targets:
            if len(target.queue) >= self._settings.queue:
                target.queue.popleft()
                self.dropped += 1
                if not target.overflowing:
                    target.overflowing = True
                    log.warning("webhook queue full target=%s: dropping the oldest events", target.url)
            elif target.overflowing and len(target.queue) < self._settings.queue // 2:
                target.overflowing = False
            target.queue.append(item)
            target.wake.set()

    def stats(self) -> dict[str, int]:
        return {
            "queued": sum(len(t.queue) for t in self._targets),
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
        }

    async def _run(self, target: _Target) -> None:
        while True:
            if not target.queue:
                target.wake.clear()
                await target.wake.wait()
                continue
            event_id, kind, body = target.queue[0]
            delivered = await self._deliver(target, event_id, kind, body)
            if target.queue and target.queue[0][0] == event_id:
                target.queue.popleft()
            if delivered:
                self.delivered += 1
            else:
                self.failed += 1

    async def _deliver(self, target: _Target, event_id: str, kind: str, body: bytes) -> bool:
        settings = self._settings
        assert self._http is not None
        assert settings.secret is not None
        for attempt in range(settings.max_attempts):
            timestamp = int(self._clock())
            headers = {
                "Content-Type": "application/json",
                ID_HEADER: event_id,
                EVENT_HEADER: kind,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(settings.secret, timestamp, body),
            }
            try:
                async with self._http.post(target.url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                status = 0
            else:
                problem = f"HTTP {status}"
            if 200 <= status < 300:
                if target.failing:
                    log.info(
                        "webhook delivery recovered target=%s after %d failed attempts",
                        target.url,
                        target.failed_attempts,
                    )
                target.failing, target.failed_attempts = False, 0
                return True
            target.failed_attempts += 1
            if not target.failing:
                target.failing = True
                log.warning("webhook delivery failing target=%s event=%s: %s", target.url, kind, problem)
            else:
                log.debug("webhook delivery failed again target=%s: %s", target.url, problem)
            if 400 <= status < 500 and status not in (408, 429):
                return False  # the target refuses this event: retrying cannot help
            if attempt + 1 < settings.max_attempts:
                await asyncio.sleep(min(settings.retry_base * 2**attempt, settings.retry_max))
        return False
