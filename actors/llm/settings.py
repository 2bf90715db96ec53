"""LLM settings: which provider, which model, and the bounds of one drafting turn."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["LlmSettings"]


def _number(env: Mapping[str, str], key: str, default: float, *, minimum: float, strict: bool) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        bound = f"greater than {minimum:g}" if strict else f"at least {minimum:g}"
        raise ValueError(f"{key} must be {bound}, got {raw!r}")
    return value


def _integer(env: Mapping[str, str], key: str, default: int, *, minimum: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{key} must be at least {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """Built once at the entry point (`from_env`) and passed down.

    Without an API key the offline provider drafts deterministically; with one, the
    OpenAI-compatible endpoint at `base_url` (None: api.openai.com) is used.
    """

    api_key: str | None = field(default=None, repr=False)
    # None: the OpenAI API itself (the SDK's own environment lookup is bypassed on purpose).
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    # Seconds to wait for the server to answer and between two streamed chunks.
    timeout: float = 60.0
    # Retries of the HTTP client on connection errors and 429/5xx, before any byte is streamed.
    max_retries: int = 2
    # Refused tool calls per turn (bad JSON, invalid arguments, unknown tool, failed search),
    # each sent back to the model so it can correct itself; reaching the bound fails the turn.
    max_tool_attempts: int = 3
    # Model round trips (request, tool results, request again ...) per turn.
    max_rounds: int = 8
    max_tool_calls_per_round: int = 8
    max_tool_argument_chars: int = 262_144
    # Seconds between two offline text deltas, so the offline stream can be watched.
    offline_delay: float = 0.0

    @property
    def online(self) -> bool:
        return bool(self.api_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LlmSettings:
        d = cls()
        return cls(
            api_key=env.get("OPENAI_API_KEY", "").strip() or None,
            base_url=env.get("OPENAI_BASE_URL", "").strip() or None,
            model=env.get("ATELIER_LLM_MODEL", "").strip() or d.model,
            timeout=_number(env, "ATELIER_LLM_TIMEOUT", d.timeout, minimum=0.0, strict=True),
            max_retries=_integer(env, "ATELIER_LLM_MAX_RETRIES", d.max_retries, minimum=0),
            max_tool_attempts=_integer(env, "ATELIER_LLM_MAX_TOOL_ATTEMPTS", d.max_tool_attempts, minimum=1),
            max_rounds=_integer(env, "ATELIER_LLM_MAX_ROUNDS", d.max_rounds, minimum=1),
            max_tool_calls_per_round=_integer(
                env, "ATELIER_LLM_MAX_TOOL_CALLS_PER_ROUND", d.max_tool_calls_per_round, minimum=1
            ),
            max_tool_argument_chars=_integer(
                env, "ATELIER_LLM_MAX_TOOL_ARGUMENT_CHARS", d.max_tool_argument_chars, minimum=1024
            ),
            offline_delay=_number(
                env, "ATELIER_LLM_OFFLINE_DELAY", d.offline_delay, minimum=0.0, strict=False
            ),
        )
