"""Abuse limits and idempotency settings, read from the environment once at the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from actors.env import env_float, env_int

from .bucket import Rate

__all__ = ["LimitSettings"]


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Every limit is off at 0. The defaults only stop floods: the benchmarks and tests
    drive thousands of requests and sockets from 127.0.0.1 and must never meet them."""

    # HTTP requests (every route but /metrics), per client IP and per token.
    ip_rate: float = 5000.0
    ip_burst: int = 10000
    token_rate: float = 2000.0
    token_burst: int = 4000
    # WebSocket upgrades, per client IP and per token (when one is visible at the upgrade).
    ws_ip_rate: float = 1000.0
    ws_ip_burst: int = 10000
    ws_token_rate: float = 200.0
    ws_token_burst: int = 4000
    # Concurrent WebSockets and SSE streams.
    ws_per_ip: int = 20000
    ws_per_token: int = 10000
    sse_per_user: int = 64
    # Stored sessions a user may own.
    design_sessions_per_user: int = 1000
    workspace_sessions_per_user: int = 1000
    # Keys remembered by each gateway's in-memory bucket tables.
    max_keys: int = 100_000
    # Idempotency-Key: how long an outcome is remembered, how many (in memory), how big.
    idempotency_ttl: float = 86400.0
    idempotency_max_keys: int = 100_000
    idempotency_max_response_bytes: int = 1 << 20
    idempotency_key_max_chars: int = 255
    # A claimed key whose request never finished (its gateway died) frees after this.
    idempotency_pending_ttl: float = 300.0
    # At shutdown, requests holding a key get this long to finish before they are cancelled.
    idempotency_shutdown_grace: float = 5.0
    # A WebSocket close that the peer does not complete within this is aborted.
    ws_close_timeout: float = 2.0

    @property
    def ip(self) -> Rate:
        return Rate(self.ip_rate, self.ip_burst)

    @property
    def token(self) -> Rate:
        return Rate(self.token_rate, self.token_burst)

    @property
    def ws_ip(self) -> Rate:
        return Rate(self.ws_ip_rate, self.ws_ip_burst)

    @property
    def ws_token(self) -> Rate:
        return Rate(self.ws_token_rate, self.ws_token_burst)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LimitSettings:
        d = cls()
        return cls(
            ip_rate=env_float(env, "ATELIER_RATE_IP_PER_SEC", d.ip_rate),
            ip_burst=env_int(env, "ATELIER_RATE_IP_BURST", d.ip_burst),
            token_rate=env_float(env, "ATELIER_RATE_TOKEN_PER_SEC", d.token_rate),
            token_burst=env_int(env, "ATELIER_RATE_TOKEN_BURST", d.token_burst),
            ws_ip_rate=env_float(env, "ATELIER_WS_CONNECT_IP_PER_SEC", d.ws_ip_rate),
            ws_ip_burst=env_int(env, "ATELIER_WS_CONNECT_IP_BURST", d.ws_ip_burst),
            ws_token_rate=env_float(env, "ATELIER_WS_CONNECT_TOKEN_PER_SEC", d.ws_token_rate),
            ws_token_burst=env_int(env, "ATELIER_WS_CONNECT_TOKEN_BURST", d.ws_token_burst),
            ws_per_ip=env_int(env, "ATELIER_WS_MAX_PER_IP", d.ws_per_ip),
            ws_per_token=env_int(env, "ATELIER_WS_MAX_PER_TOKEN", d.ws_per_token),
            sse_per_user=env_int(env, "ATELIER_SSE_MAX_PER_USER", d.sse_per_user),
            design_sessions_per_user=env_int(
                env, "ATELIER_MAX_DESIGN_SESSIONS_PER_USER", d.design_sessions_per_user
            ),
            workspace_sessions_per_user=env_int(
                env, "ATELIER_MAX_WORKSPACE_SESSIONS_PER_USER", d.workspace_sessions_per_user
            ),
            max_keys=env_int(env, "ATELIER_RATE_MAX_KEYS", d.max_keys, minimum=1),
            idempotency_ttl=env_float(env, "ATELIER_IDEMPOTENCY_TTL", d.idempotency_ttl),
            idempotency_max_keys=env_int(
                env, "ATELIER_IDEMPOTENCY_MAX_KEYS", d.idempotency_max_keys, minimum=1
            ),
            idempotency_max_response_bytes=env_int(
                env, "ATELIER_IDEMPOTENCY_MAX_RESPONSE_BYTES", d.idempotency_max_response_bytes, minimum=1
            ),
            idempotency_pending_ttl=env_float(
                env, "ATELIER_IDEMPOTENCY_PENDING_TTL", d.idempotency_pending_ttl, minimum=1.0
            ),
            idempotency_shutdown_grace=env_float(
                env, "ATELIER_IDEMPOTENCY_SHUTDOWN_GRACE", d.idempotency_shutdown_grace, minimum=0.0
            ),
            ws_close_timeout=env_float(env, "ATELIER_WS_CLOSE_TIMEOUT", d.ws_close_timeout, minimum=0.01),
        )

    @classmethod
    def unlimited(cls) -> LimitSettings:
        """Every abuse limit off (idempotency and the close timeout keep their defaults)."""
        return cls(
            ip_rate=0,
            ip_burst=0,
            token_rate=0,
            token_burst=0,
            ws_ip_rate=0,
            ws_ip_burst=0,
            ws_token_rate=0,
            ws_token_burst=0,
            ws_per_ip=0,
            ws_per_token=0,
            sse_per_user=0,
            design_sessions_per_user=0,
            workspace_sessions_per_user=0,
        )
