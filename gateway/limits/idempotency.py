"""``Idempotency-Key`` on every mutating route (POST, PUT, PATCH, DELETE).

A retry with the same key, method, path and caller gets the first outcome (status and
body, with ``Idempotent-Replayed: true``) instead of running again. The key is claimed
before the route runs and the outcome recorded when the route completes, in a task of its
own: a client whose connection is cut mid-request still finds the outcome on its retry.
While the first request runs, a retry is answered 409 with ``Retry-After``; the same key
with another body (or query) is 422. Outcomes not remembered, so a retry runs again:
5xx, 401, 408 and 429 (nothing was applied, or the client is told to come back).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.typedefs import Middleware

from .identity import ANONYMOUS, token_key
from .outcomes import MemoryOutcomes, Outcome, OutcomeStore, RedisOutcomes
from .settings import LimitSettings

__all__ = ["HEADER", "IDEMPOTENCY", "Idempotency", "idempotency_middleware"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_REMEMBERED = frozenset({401, 408, 429})


class Idempotency:
    def __init__(self, settings: LimitSettings, *, redis_url: str | None, prefix: str, body_cap: int) -> None:
        self.settings = settings
        self.body_cap = body_cap
        memory = MemoryOutcomes(settings.idempotency_max_keys)
        self.store: OutcomeStore = RedisOutcomes(redis_url, prefix, memory) if redis_url else memory
        self._running: set[asyncio.Task[web.StreamResponse]] = set()

    @property
    def enabled(self) -> bool:
        return self.settings.idempotency_ttl > 0

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        """Let running requests finish (``ATELIER_IDEMPOTENCY_SHUTDOWN_GRACE``), cancel the rest,
        close the store."""
        if self._running:
            grace = self.settings.idempotency_shutdown_grace
            _, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.store.close()

    def run(self, work: Awaitable[web.StreamResponse]) -> asyncio.Task[web.StreamResponse]:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task


IDEMPOTENCY = web.AppKey("idempotency", Idempotency)


def _error(status: int, message: str, /, **extra: object) -> web.Response:
    return web.json_response({"error": message, "field": HEADER, **extra}, status=status)


def _valid_key(raw: str, max_chars: int) -> bool:
    return 0 < len(raw) <= max_chars and all(33 <= ord(c) <= 126 for c in raw)


async def _buffer(request: web.Request, cap: int) -> bytes | None:
    """The whole body (None past ``cap``), put back so the route reads it as if untouched."""
    if request.content_length is not None and request.content_length > cap:
        return None
    data = bytearray()
    # Read the payload itself: ``request.content`` is cached on first use (reify) and must
    # first be asked for by the route, after the payload has been re-seated.
    async for chunk in request._payload.iter_chunked(65536):
        data += chunk
        if len(data) > cap:
            return None
    # A limit above the body's size: feeding it must never ask the socket to pause reading
    # (the real payload is already read; pausing a finished protocol is an error).
    replay = StreamReader(request.protocol, max(1 << 16, len(data) + 1), loop=asyncio.get_running_loop())
    if data:
        replay.feed_data(bytes(data))
    replay.feed_eof()
    request._payload = replay  # aiohttp has no public way to re-seat a read body
    request._cache.pop("content", None)
    return bytes(data)


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _outcome(response: web.StreamResponse, fingerprint: str, max_bytes: int) -> Outcome | None:
    if response.status >= 500 or response.status in _NOT_REMEMBERED:
        return None
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes) and len(body) <= max_bytes:
        return Outcome(fingerprint, False, response.status, response.headers.get("Content-Type"), body)
    return Outcome(fingerprint, False, response.status)  # a stream or a large body: not replayable


def _answer(found: Outcome, fingerprint: str) -> web.Response:
    if found.fingerprint != fingerprint:
        return _error(422, f"{HEADER} was already used with a different request body or query")
    if found.pending:
        response = _error(409, f"a request with this {HEADER} is still in progress; retry later")
        response.headers["Retry-After"] = "1"
        return response
    if found.body is None:
        return _error(
            409,
            f"the first request with this {HEADER} answered with a stream or a body too large "
            "to replay; it cannot be replayed",
            firstStatus=found.status,
        )
    headers = {REPLAYED: "true"}
    if found.content_type:
        headers["Content-Type"] = found.content_type
    return web.Response(status=found.status, body=found.body, headers=headers)


async def _run(
    idem: Idempotency, request: web.Request, handler: Handler, key: str, fingerprint: str
) -> web.StreamResponse:
    settings = idem.settings
    outcome: Outcome | None = None
    try:
        response = await handler(request)
        outcome = _outcome(response, fingerprint, settings.idempotency_max_response_bytes)
        return response
    finally:
        # Recorded here, in the route's own task: a cut client connection does not skip it.
        if outcome is None:
            await idem.store.release(key)
        else:
            await idem.store.finish(key, outcome, settings.idempotency_ttl)


def idempotency_middleware() -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = request.headers.get(HEADER)
        if raw is None or request.method not in MUTATING:
            return await handler(request)
        idem = request.config_dict[IDEMPOTENCY]
        if not idem.enabled:
            return await handler(request)
        if not _valid_key(raw, idem.settings.idempotency_key_max_chars):
            return _error(
                400,
                f"{HEADER} must be 1 to {idem.settings.idempotency_key_max_chars} visible ASCII characters",
            )
        body = await _buffer(request, idem.body_cap)
        if body is None:
            return _error(413, f"request body too large to use with {HEADER} (at most {idem.body_cap} bytes)")
        subject = await token_key(request) or ANONYMOUS
        key = _digest(subject, request.method, request.path, raw)
        fingerprint = _digest(request.query_string, request.headers.get("Content-Type", ""), body)
        found = await idem.store.claim(
            key, fingerprint, min(idem.settings.idempotency_pending_ttl, idem.settings.idempotency_ttl)
        )
        if found is not None:
            log.info(
                "idempotent replay path=%s pending=%s status=%s", request.path, found.pending, found.status
            )
            return _answer(found, fingerprint)
        # Shielded: the outcome is recorded even when the client goes away mid-request.
        return await asyncio.shield(idem.run(_run(idem, request, handler, key, fingerprint)))

    return middleware
