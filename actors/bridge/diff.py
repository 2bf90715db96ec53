"""The difference between two Bridge states (pure: two ``read_state`` dicts in, JSON out).

::

    {"elements": {"added": [key...], "removed": [key...],
                  "changed": [{"key", "type"?: {"from", "to"},
                               "props"?: {"added": {..}, "removed": {..}, "changed": {name: {"from", "to"}}},
                               "children"?: {"from", "to"}}]},
     "root": {"from", "to"} | null,
     "state": {"from", "to"} | null,
     "theme": {name: {"from", "to"}},        (a side without the key shows null)
     "themeCSS": {"changed": bool}}

Keys are sorted so equal inputs give byte-identical JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["diff_states", "is_empty"]


def _pair(a: object, b: object) -> dict[str, Any]:
    return {"from": a, "to": b}


def _props_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any] | None:
    added = {k: b[k] for k in sorted(b) if k not in a}
    removed = {k: a[k] for k in sorted(a) if k not in b}
    changed = {k: _pair(a[k], b[k]) for k in sorted(a) if k in b and a[k] != b[k]}
    if not (added or removed or changed):
        return None
    return {"added": added, "removed": removed, "changed": changed}


def _element_diff(key: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {"key": key}
    if a.get("type", "") != b.get("type", ""):
        out["type"] = _pair(a.get("type", ""), b.get("type", ""))
    props = _props_diff(a.get("props", {}), b.get("props", {}))
    if props is not None:
        out["props"] = props
    if a.get("children") != b.get("children"):
        out["children"] = _pair(a.get("children"), b.get("children"))
    return out if len(out) > 1 else None


def diff_states(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from state ``a`` to state ``b``."""
    spec_a, spec_b = a.get("spec", {}), b.get("spec", {})
    els_a: Mapping[str, Any] = spec_a.get("elements", {})
    els_b: Mapping[str, Any] = spec_b.get("elements", {})
    changed = []
    for key in sorted(set(els_a) & set(els_b)):
        element = _element_diff(key, els_a[key], els_b[key])
        if element is not None:
            changed.append(element)
    theme_a: Mapping[str, Any] = a.get("theme", {})
    theme_b: Mapping[str, Any] = b.get("theme", {})
    theme = {
        name: _pair(theme_a.get(name), theme_b.get(name))
        for name in sorted(set(theme_a) | set(theme_b))
        if theme_a.get(name) != theme_b.get(name) or (name in theme_a) != (name in theme_b)
    }
    root_a, root_b = spec_a.get("root", ""), spec_b.get("root", "")
    state_a, state_b = spec_a.get("state"), spec_b.get("state")
    return {
        "elements": {
            "added": sorted(set(els_b) - set(els_a)),
            "removed": sorted(set(els_a) - set(els_b)),
            "changed": changed,
        },
        "root": None if root_a == root_b else _pair(root_a, root_b),
        "state": None if state_a == state_b else _pair(state_a, state_b),
        "theme": theme,
        "themeCSS": {"changed": a.get("themeCSS", "") != b.get("themeCSS", "")},
    }


def is_empty(diff: Mapping[str, Any]) -> bool:
    elements = diff["elements"]
    return not (
        elements["added"]
        or elements["removed"]
        or elements["changed"]
        or diff["root"]
        or diff["state"]
        or diff["theme"]
        or diff["themeCSS"]["changed"]
    )
