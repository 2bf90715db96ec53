"""Reading settings from the environment: every bad value names its variable."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

__all__ = ["SettingError", "env_choice", "env_flag", "env_float", "env_int"]

E = TypeVar("E", bound=Enum)


class SettingError(ValueError):
    """An environment variable holds a value the server cannot use; names the variable."""


def env_int(env: Mapping[str, str], key: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{key}={raw!r}: expected an integer") from None
    if value < minimum:
        raise SettingError(f"{key}={raw!r}: must be at least {minimum}")
    return value


def env_float(env: Mapping[str, str], key: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{key}={raw!r}: expected a number") from None
    if not value >= minimum:
        raise SettingError(f"{key}={raw!r}: must be at least {minimum}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def env_flag(env: Mapping[str, str], key: str, default: bool) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (empty: off); unset: ``default``."""
    raw = env.get(key)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{key} must be one of 1/true/yes or 0/false/no, got {raw!r}")


def env_choice(env: Mapping[str, str], key: str, default: E) -> E:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    kind = type(default)
    try:
        return kind(raw.strip().lower())
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise SettingError(f"{key}={raw!r}: expected one of {choices}") from None
