"""Session-actor settings: placement, lifetime, durability and presence limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ActorSettings"]


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    return float(env[key]) if key in env else default


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    return int(env[key]) if key in env else default


@dataclass(frozen=True, slots=True)
class ActorSettings:
    namespace: str = "atelier"
    # "session": one Ray actor per live session; "hashed": sessions share `hosts` actors.
    placement: str = "session"
    hosts: int = 4
    idle_timeout: float = 60.0
    idle_check_interval: float = 5.0
    exit_grace: float = 1.0
    max_restarts: int = 3
    snapshot_every_updates: int = 500
    snapshot_every_bytes: int = 1 << 20
    commit_retry_max_delay: float = 2.0
    flush_max_rows: int = 1024
    max_unflushed_rows: int = 100_000
    presence_timeout: float = 30.0
    max_ops_per_request: int = 500
    max_theme_css_bytes: int = 65536
    subscriber_queue_events: int = 10000
    subscriber_lease: float = 30.0
    stream_batch_events: int = 512

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActorSettings:
        d = cls()
        return cls(
            namespace=env.get("ATELIER_RAY_NAMESPACE", d.namespace),
            placement=env.get("ATELIER_PLACEMENT", d.placement),
            hosts=_int(env, "ATELIER_HOSTS", d.hosts),
            idle_timeout=_float(env, "ATELIER_IDLE_TIMEOUT", d.idle_timeout),
            idle_check_interval=_float(env, "ATELIER_IDLE_CHECK_INTERVAL", d.idle_check_interval),
            exit_grace=_float(env, "ATELIER_EXIT_GRACE", d.exit_grace),
            max_restarts=_int(env, "ATELIER_MAX_RESTARTS", d.max_restarts),
            snapshot_every_updates=_int(env, "ATELIER_SNAPSHOT_EVERY_UPDATES", d.snapshot_every_updates),
            snapshot_every_bytes=_int(env, "ATELIER_SNAPSHOT_EVERY_BYTES", d.snapshot_every_bytes),
            commit_retry_max_delay=_float(env, "ATELIER_COMMIT_RETRY_MAX_DELAY", d.commit_retry_max_delay),
            flush_max_rows=_int(env, "ATELIER_FLUSH_MAX_ROWS", d.flush_max_rows),
            max_unflushed_rows=_int(env, "ATELIER_MAX_UNFLUSHED_ROWS", d.max_unflushed_rows),
            presence_timeout=_float(env, "ATELIER_PRESENCE_TIMEOUT", d.presence_timeout),
            max_ops_per_request=_int(env, "ATELIER_MAX_OPS_PER_REQUEST", d.max_ops_per_request),
            max_theme_css_bytes=_int(env, "ATELIER_MAX_THEME_CSS_BYTES", d.max_theme_css_bytes),
            subscriber_queue_events=_int(env, "ATELIER_SUBSCRIBER_QUEUE_EVENTS", d.subscriber_queue_events),
            subscriber_lease=_float(env, "ATELIER_SUBSCRIBER_LEASE", d.subscriber_lease),
            stream_batch_events=_int(env, "ATELIER_STREAM_BATCH_EVENTS", d.stream_batch_events),
        )
