"""Field readers of the artifact validators: each checks one JSON value and names its field.

Pure. Every reader raises ``ValidationError`` whose ``field`` is the dotted path it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from actors.core.errors import ValidationError
from actors.core.values import check_json_value, check_str

if TYPE_CHECKING:
    from .artifacts import ArtifactLimits

__all__ = [
    "bounded_list",
    "confidence",
    "enum_value",
    "json_fields",
    "json_list",
    "json_object",
    "quantity",
    "require_keys",
    "strings",
    "text",
    "timestamp",
]


def json_fields(value: object, field: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    for key in value:
        if key not in allowed:
            raise ValidationError(f"{field}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
    return value


def require_keys(obj: Mapping[str, Any], field: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if obj.get(key) is None:
            raise ValidationError(f"{field}.{key}", "required")


def bounded_list(value: object, field: str, max_items: int) -> list[object]:
    if not isinstance(value, list):
        raise ValidationError(field, "must be an array")
    if len(value) > max_items:
        raise ValidationError(field, f"at most {max_items} entries, got {len(value)}")
    return value


def text(value: object, field: str, limits: ArtifactLimits, *, non_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if non_empty and not value:
        raise ValidationError(field, "must be a non-empty string")
    if len(value) > limits.max_text_chars:
        raise ValidationError(field, f"at most {limits.max_text_chars} characters")
    return check_str(value, field)


def strings(value: object, field: str, limits: ArtifactLimits, max_items: int) -> list[str]:
    return [
        text(item, f"{field}[{i}]", limits) for i, item in enumerate(bounded_list(value, field, max_items))
    ]


def enum_value(value: object, field: str, kind: type[StrEnum]) -> str:
    allowed = [member.value for member in kind]
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(field, f"must be one of {', '.join(allowed)}")
    return value


def confidence(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError(field, "must be a number from 0 to 1")
    return value


def quantity(value: object, field: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(field, "must be a positive integer")
    check_json_value(value, field)
    return value


def timestamp(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be an ISO 8601 timestamp string")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "must be an ISO 8601 timestamp string") from None
    return value


def json_object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    check_json_value(value, field)
    return dict(value)


def json_list(value: object, field: str, limits: ArtifactLimits) -> list[Any]:
    items = bounded_list(value, field, limits.max_bom_nodes)
    check_json_value(items, field)
    return list(items)
