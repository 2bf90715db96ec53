"""The gateway's abuse limits: request rates (middleware), WebSocket admission, SSE stream
slots and stored sessions per user. Refusals are :class:`LimitExceeded` (429, or 409 for
the sessions a user owns) with ``Retry-After`` when waiting helps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.typedefs import Middleware

from actors.client import SessionClient

from ..auth import PRINCIPAL
from .bucket import Rate, SlotTable
from .errors import LimitExceeded, limit_response
from .identity import client_ip, token_key
from .settings import LimitSettings
from .store import MemoryRateStore, RateStore, RedisRateStore

__all__ = ["LIMITER", "Limiter", "WsAdmission", "rate_limit_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Scraping must keep working while a client is being refused.
_EXEMPT_PATHS = frozenset({"/metrics"})


class WsAdmission:
    """The slots one admitted socket holds; released exactly once when it ends."""

    def __init__(self, limiter: Limiter, ip: str, token: str | None) -> None:
        self._limiter = limiter
        self._ip = ip
        self._token = token
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._limiter.ws_ip.release(self._ip)
        if self._token is not None:
            self._limiter.ws_token.release(self._token)


class Limiter:
    def __init__(self, settings: LimitSettings, *, redis_url: str | None, prefix: str) -> None:
        self.settings = settings
        memory = MemoryRateStore(settings.max_keys)
        self.rates: RateStore = RedisRateStore(redis_url, prefix, memory) if redis_url else memory
        # Concurrency is counted per gateway: a crashed gateway must not leave slots taken
        # in a shared store, and each socket or stream lives on exactly one gateway.
        self.ws_ip = SlotTable(settings.ws_per_ip)
        self.ws_token = SlotTable(settings.ws_per_token)
        self.sse = SlotTable(settings.sse_per_user)

    async def open(self) -> None:
        await self.rates.open()

    async def close(self) -> None:
        await self.rates.close()

    async def _take(self, scope: str, key: str, rate: Rate, setting: str, what: str) -> None:
        if not rate.enabled:
            return
        decision = await self.rates.take(scope, key, rate)
        if not decision.allowed:
            raise LimitExceeded(
                429,
                f"too many {what}: at most {rate.per_second:g}/s (burst {rate.burst})",
                setting,
                rate.per_second,
                decision.retry_after,
            )

    async def check_request(self, request: web.Request) -> None:
        s = self.settings
        await self._take(
            "ip", client_ip(request), s.ip, "ATELIER_RATE_IP_PER_SEC", "requests from this address"
        )
        if s.token.enabled:
            key = await token_key(request)
            if key is not None:
                await self._take(
                    "token", key, s.token, "ATELIER_RATE_TOKEN_PER_SEC", "requests for this token"
                )

    async def admit_ws(self, request: web.Request) -> WsAdmission:
        """Before the upgrade: the connection rates, then one concurrent slot per IP and token.

        A Hocuspocus client sends its token inside the socket, per document: only a token
        given at the upgrade (``Authorization`` or ``?token=``) counts against the token limits."""
        s = self.settings
        ip = client_ip(request)
        key = await token_key(request, query=True)
        await self._take(
            "ws-ip", ip, s.ws_ip, "ATELIER_WS_CONNECT_IP_PER_SEC", "WebSocket connections from this address"
        )
        if key is not None:
            await self._take(
                "ws-token",
                key,
                s.ws_token,
                "ATELIER_WS_CONNECT_TOKEN_PER_SEC",
                "WebSocket connections for this token",
            )
        if not self.ws_ip.acquire(ip):
            raise LimitExceeded(
                429,
                f"too many open WebSockets from this address (at most {s.ws_per_ip})",
                "ATELIER_WS_MAX_PER_IP",
                s.ws_per_ip,
                1.0,
            )
        if key is not None and not self.ws_token.acquire(key):
            self.ws_ip.release(ip)
            raise LimitExceeded(
                429,
                f"too many open WebSockets for this token (at most {s.ws_per_token})",
                "ATELIER_WS_MAX_PER_TOKEN",
                s.ws_per_token,
                1.0,
            )
        return WsAdmission(self, ip, key)

    @asynccontextmanager
    async def stream_slot(self, request: web.Request) -> AsyncIterator[None]:
        """One of the caller's concurrent SSE streams, held while the stream is open."""
        release = self.take_stream_slot(request)
        try:
            yield
        finally:
            release()

    def take_stream_slot(self, request: web.Request) -> Callable[[], None]:
        """One of the caller's concurrent SSE streams, or 429; returns its release."""
        user = request[PRINCIPAL].user_id if PRINCIPAL in request else "ip:" + client_ip(request)
        if not self.sse.acquire(user):
            limit = self.settings.sse_per_user
            raise LimitExceeded(
                429,
                f"too many open event streams for this user (at most {limit})",
                "ATELIER_SSE_MAX_PER_USER",
                limit,
                1.0,
            )
        return lambda: self.sse.release(user)

    async def check_design_sessions(self, sessions: SessionClient, user: str) -> None:
        """409 when ``user`` already owns ``ATELIER_MAX_DESIGN_SESSIONS_PER_USER`` design sessions."""
        limit = self.settings.design_sessions_per_user
        if limit <= 0:
            return
        # The limit-th session exists iff a page of one at offset limit-1 is not empty.
        if await sessions.list_design_sessions(user, 1, limit - 1):
            raise _owned("design", limit, "ATELIER_MAX_DESIGN_SESSIONS_PER_USER")

    async def check_workspace_sessions(self, sessions: SessionClient, user: str, page: int) -> None:
        """409 when ``user`` already owns ``ATELIER_MAX_WORKSPACE_SESSIONS_PER_USER`` workspace
        sessions, counted over their projects (pages of ``page``; stops at the limit)."""
        limit = self.settings.workspace_sessions_per_user
        if limit <= 0:
            return
        workspace = sessions.workspace
        total = 0
        offset = 0
        while True:
            projects = await workspace.list_projects(user, page, offset)
            for project in projects:
                seen = 0
                while True:
                    rows = await workspace.list_sessions(user, project.id, page, seen)
                    seen += len(rows)
                    if total + seen >= limit:
                        raise _owned("workspace", limit, "ATELIER_MAX_WORKSPACE_SESSIONS_PER_USER")
                    if len(rows) < page:
                        break
                total += seen
            if len(projects) < page:
                return
            offset += len(projects)


def _owned(kind: str, limit: int, setting: str) -> LimitExceeded:
    return LimitExceeded(
        409, f"this user already owns the most {kind} sessions allowed ({limit})", setting, limit, None
    )


LIMITER = web.AppKey("limiter", Limiter)


def rate_limit_middleware() -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in _EXEMPT_PATHS:
            try:
                await request.config_dict[LIMITER].check_request(request)
            except LimitExceeded as exc:
                return limit_response(exc)
        return await handler(request)

    return middleware
