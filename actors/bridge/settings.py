"""Settings of the Bridge: versions, undo and webhooks (built once, from env), and what it
reads of its host's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from ..env import SettingError, env_float, env_int

__all__ = ["BridgeHostSettings", "VersionSettings", "WebhookSettings"]


@dataclass(frozen=True, slots=True)
class VersionSettings:
    every_revisions: int = 100  # an automatic version after this many revisions (0: never)
    every_seconds: float = 600.0  # ... or this long after the first change since the last one (0: never)
    keep_auto: int = 50  # automatic versions kept per session (older ones are deleted)
    keep_manual: int = 200  # named versions kept per session
    max_label_chars: int = 200
    undo_changes: int = 100  # named changes per live session that can still be undone
    max_conflicts: int = 20  # conflicts listed per refused undo

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VersionSettings:
        d = cls()
        return cls(
            every_revisions=env_int(env, "ATELIER_VERSION_EVERY_REVISIONS", d.every_revisions),
            every_seconds=env_float(env, "ATELIER_VERSION_EVERY_SECONDS", d.every_seconds),
            keep_auto=env_int(env, "ATELIER_VERSION_KEEP_AUTO", d.keep_auto, minimum=1),
            keep_manual=env_int(env, "ATELIER_VERSION_KEEP_MANUAL", d.keep_manual, minimum=1),
            max_label_chars=env_int(env, "ATELIER_VERSION_MAX_LABEL_CHARS", d.max_label_chars, minimum=1),
            undo_changes=env_int(env, "ATELIER_UNDO_MAX_CHANGES", d.undo_changes, minimum=1),
            max_conflicts=env_int(env, "ATELIER_UNDO_MAX_CONFLICTS", d.max_conflicts, minimum=1),
        )


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    targets: tuple[str, ...] = ()  # URLs every event is POSTed to
    secret: str | None = None  # HMAC-SHA256 key of the signature header
    debounce: float = 1.0  # session.changed: at most one event per session per this long
    queue: int = 10_000  # events waiting per target; past it the oldest are dropped
    timeout: float = 5.0  # per delivery attempt
    max_attempts: int = 6
    retry_base: float = 0.5  # backoff: base * 2**attempt, capped at retry_max
    retry_max: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        d = cls()
        raw = env.get("ATELIER_WEBHOOK_URLS", "")
        targets = tuple(url.strip() for url in raw.split(",") if url.strip())
        for url in targets:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SettingError(f"ATELIER_WEBHOOK_URLS: {url!r} is not an http(s) URL")
        secret = env.get("ATELIER_WEBHOOK_SECRET") or None
        if targets and secret is None:
            raise SettingError("ATELIER_WEBHOOK_SECRET: required when ATELIER_WEBHOOK_URLS is set")
        return cls(
            targets=targets,
            secret=secret,
            debounce=env_float(env, "ATELIER_WEBHOOK_DEBOUNCE", d.debounce),
            queue=env_int(env, "ATELIER_WEBHOOK_QUEUE", d.queue, minimum=1),
            timeout=env_float(env, "ATELIER_WEBHOOK_TIMEOUT", d.timeout, minimum=0.01),
            max_attempts=env_int(env, "ATELIER_WEBHOOK_MAX_ATTEMPTS", d.max_attempts, minimum=1),
            retry_base=env_float(env, "ATELIER_WEBHOOK_RETRY_BASE", d.retry_base, minimum=0.001),
            retry_max=env_float(env, "ATELIER_WEBHOOK_RETRY_MAX", d.retry_max, minimum=0.001),
        )


class BridgeHostSettings(Protocol):
    """The host settings a Bridge session reads (``actors.settings.ActorSettings`` has them);
    named here so the Bridge does not import the settings of the other APIs."""

    @property
    def presence_timeout(self) -> float: ...

    @property
    def snapshot_every_updates(self) -> int: ...

    @property
    def snapshot_every_bytes(self) -> int: ...

    @property
    def commit_retry_max_delay(self) -> float: ...

    @property
    def flush_max_rows(self) -> int: ...

    @property
    def max_unflushed_rows(self) -> int: ...

    @property
    def max_ops_per_request(self) -> int: ...

    @property
    def max_theme_css_bytes(self) -> int: ...

    @property
    def versions(self) -> VersionSettings: ...

    @property
    def webhooks(self) -> WebhookSettings: ...
