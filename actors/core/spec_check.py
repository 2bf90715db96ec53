"""Validation of specs and JSON values, shared by spec ops and session creation (pure).

JSON values must be storable: integers within +-(2**53-1), finite floats, valid Unicode
strings, nesting at most ``MAX_JSON_DEPTH`` deep. pycrdt panics on the first two
violations, and browsers could not read big integers exactly anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ValidationError
from .layout import MAX_SAFE_INTEGER

__all__ = [
    "MAX_JSON_DEPTH",
    "check_element",
    "check_json_object",
    "check_json_value",
    "check_key",
    "check_str",
    "find_cycle",
    "show_keys",
    "validate_spec",
]

# Deeper values are refused rather than risking RecursionError in the checks, in pycrdt's
# conversion, or in a browser's renderer.
MAX_JSON_DEPTH = 64


def validate_spec(obj: object, *, field: str = "spec") -> dict[str, Any]:
    """A request ``Spec`` checked in full and returned as the client wrote it: optional
    fields (an element's ``children``, the spec's ``state``) only when given and not null."""
    if not isinstance(obj, Mapping):
        raise ValidationError(field, "must be an object")
    for key in obj:
        if key not in ("root", "elements", "state"):
            raise ValidationError(f"{field}.{key}", "unknown key (allowed: root, elements, state)")
    root = obj.get("root")
    if not isinstance(root, str):
        raise ValidationError(f"{field}.root", "required string")
    check_str(root, f"{field}.root")
    raw_elements = obj.get("elements")
    if not isinstance(raw_elements, Mapping):
        raise ValidationError(f"{field}.elements", "required object")
    elements: dict[str, dict[str, Any]] = {}
    for key, raw in raw_elements.items():
        check_key(key, f"{field}.elements", what="element keys must be non-empty strings")
        elements[key] = check_element(raw, f"{field}.elements.{key}")
    for key, element in elements.items():
        for kid in element.get("children", ()):
            if kid not in elements:
                raise ValidationError(
                    f"{field}.elements.{key}.children", f"references missing element '{kid}'"
                )
    if elements and root not in elements:
        raise ValidationError(f"{field}.root", f"element '{root}' is not in elements")
    if not elements and root:
        raise ValidationError(f"{field}.root", 'must be "" when elements is empty')
    cycle = find_cycle({key: el.get("children", []) for key, el in elements.items()})
    if cycle is not None:
        raise ValidationError(
            f"{field}.elements.{cycle[-2]}.children",
            "creates a cycle: " + " -> ".join(f"'{k}'" for k in cycle),
        )
    spec: dict[str, Any] = {"root": root, "elements": elements}
    state = obj.get("state")
    if state is not None:
        spec["state"] = check_json_object(state, f"{field}.state")
    return spec


def check_element(value: object, field: str) -> dict[str, Any]:
    """A ``UIElement`` shape check (not whether its children exist).

    ``children`` is optional: it is in the result only when the client gave it (null counts
    as not given), so ``GET .../state`` hands back what was written.
    """
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    for key in value:
        if key not in ("type", "props", "children"):
            raise ValidationError(f"{field}.{key}", "unknown key (allowed: type, props, children)")
    kind = value.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValidationError(f"{field}.type", "required non-empty string")
    check_str(kind, f"{field}.type")
    if "props" not in value:
        raise ValidationError(f"{field}.props", "required object")
    props = check_json_object(value["props"], f"{field}.props")
    element: dict[str, Any] = {"type": kind, "props": props}
    raw_children = value.get("children")
    if raw_children is not None:
        if not isinstance(raw_children, list):
            raise ValidationError(f"{field}.children", "must be an array of element keys")
        children: list[str] = []
        for i, kid in enumerate(raw_children):
            check_key(kid, f"{field}.children[{i}]")
            if kid in children:
                raise ValidationError(f"{field}.children", f"lists '{kid}' more than once")
            children.append(kid)
        element["children"] = children
    return element


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


def find_cycle(children: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]`` if the child graph has one, else None."""
    done: set[str] = set()
    for start in children:
        if start in done:
            continue
        # Iterative DFS: path holds the current chain, frames the unvisited children.
        path: list[str] = [start]
        on_path = {start}
        frames = [iter(children.get(start, ()))]
        while frames:
            kid = next(frames[-1], None)
            if kid is None:
                frames.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if kid in on_path:
                return [*path[path.index(kid) :], kid]
            if kid in done or kid not in children:
                continue
            path.append(kid)
            on_path.add(kid)
            frames.append(iter(children[kid]))
    return None


def show_keys(keys: list[str], limit: int = 20) -> str:
    """``['a', 'b', ...]`` capped at ``limit`` keys so error messages stay bounded."""
    shown = ", ".join(f"'{k}'" for k in keys[:limit])
    more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
    return f"[{shown}{more}]"
