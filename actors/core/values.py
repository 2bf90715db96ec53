"""JSON values every API stores in a Yjs document or prints (pure).

A stored value must be JSON that pycrdt can hold and a browser reads back unchanged:
integers within +-(2**53-1), finite floats, valid Unicode strings, nesting at most
``MAX_JSON_DEPTH`` deep. pycrdt panics on the first two violations, and browsers could not
read big integers exactly anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycrdt import Array, Map, Text

from .errors import ValidationError

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_SAFE_INTEGER",
    "check_json_object",
    "check_json_value",
    "check_key",
    "check_str",
    "normalize_json",
    "show_keys",
]

MAX_SAFE_INTEGER = 9007199254740991

# Deeper values are refused rather than risking RecursionError in the checks, in pycrdt's
# conversion, or in a browser's renderer.
MAX_JSON_DEPTH = 64


def normalize_json(value: object) -> Any:
    """A stored value as plain JSON: Y types converted, integral floats made ints.

    Anything else a peer could store (XML types, binary) becomes its string form so the
    result always encodes as JSON.
    """
    if isinstance(value, (Map, Array, Text)):
        value = value.to_py()
    if isinstance(value, float):
        # is_integer() is False for NaN/inf; the bound keeps huge floats from becoming
        # ints no JSON encoder (orjson: 64-bit) or browser would treat the same way.
        if value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(k): normalize_json(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [normalize_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def check_json_object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "required object")
    check_json_value(value, field)
    return dict(value)


def check_json_value(value: object, field: str, depth: int = 0) -> None:
    """Raise unless ``value`` is JSON that pycrdt can store and a browser reads back
    unchanged."""
    if depth > MAX_JSON_DEPTH:
        raise ValidationError(field, f"nested deeper than {MAX_JSON_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValidationError(field, "integer out of range (must be within +-(2**53-1))")
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(field, "must be a finite number")
        return
    if isinstance(value, str):
        check_str(value, field)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json_value(item, f"{field}[{i}]", depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(field, "object keys must be strings")
            check_str(key, field)
            check_json_value(item, f"{field}.{key}", depth + 1)
        return
    raise ValidationError(field, f"not a JSON value ({type(value).__name__})")


def check_str(value: str, field: str) -> str:
    # pycrdt panics (a BaseException, not an error) on strings it cannot encode as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "must be valid Unicode (no lone surrogates)") from None
    return value


def check_key(value: object, field: str, *, what: str = "required non-empty string") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(field, what)
    return check_str(value, field)


def show_keys(keys: list[str], limit: int = 20) -> str:
    """``['a', 'b', ...]`` capped at ``limit`` keys so error messages stay bounded."""
    shown = ", ".join(f"'{k}'" for k in keys[:limit])
    more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
    return f"[{shown}{more}]"
