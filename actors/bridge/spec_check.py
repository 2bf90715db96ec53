"""Validation of specs, shared by spec ops and session creation (pure).

Values inside a spec are checked by ``actors.core.values`` (what pycrdt can store).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import ValidationError
from ..core.values import check_json_object, check_key, check_str

__all__ = ["check_element", "find_cycle", "validate_spec"]


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
