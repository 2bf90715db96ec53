"""Which parts of a Bridge document a transaction touched (pure: pycrdt events in, keys out).

Keys name what undo conflicts and webhooks talk about:

    element:<key>   one element (its type, props or children, or its presence)
    element:*       the whole element map (replaced): overlaps every element
    root            spec.root
    state           spec.state
    spec:<name>     any other top-level spec entry a peer wrote
    theme:<name>    one theme parameter
    themeCSS        the generated CSS text

``meta`` is not tracked: every change bumps its revision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map, Text

from .layout import SPEC, THEME, THEME_CSS

__all__ = ["ALL_ELEMENTS", "TouchTracker", "overlap", "touched_by_spec_event"]

ALL_ELEMENTS = "element:*"


def touched_by_spec_event(path: list[Any], keys: Iterable[str]) -> set[str]:
    """The keys one deep event under ``spec`` touched (``keys``: a map event's changed keys)."""
    if not path:
        out: set[str] = set()
        for key in keys:
            if key == "elements":
                out.add(ALL_ELEMENTS)
            elif key in ("root", "state"):
                out.add(key)
            else:
                out.add(f"spec:{key}")
        return out
    head = str(path[0])
    if head == "elements":
        if len(path) == 1:
            return {f"element:{key}" for key in keys}
        return {f"element:{path[1]}"}
    if head == "state":
        return {"state"}
    return {f"spec:{head}"}


def overlap(a: Iterable[str], b: Iterable[str]) -> set[str]:
    """Keys of ``a`` that ``b`` also touched (``element:*`` overlaps every element)."""
    first, second = set(a), set(b)
    common = first & second
    if ALL_ELEMENTS in second:
        common |= {k for k in first if k.startswith("element:")}
    if ALL_ELEMENTS in first:
        common |= {k for k in second if k.startswith("element:")}
    return common


def _event_keys(event: Any) -> list[str]:
    keys = getattr(event, "keys", None)
    return [str(k) for k in keys] if isinstance(keys, dict) else []


class TouchTracker:
    """Accumulates the keys every transaction on ``doc`` touches, until ``take()``."""

    def __init__(self, doc: Doc[Any]) -> None:
        self._touched: set[str] = set()
        spec: Map[Any] = doc.get(SPEC, type=Map)
        theme: Map[Any] = doc.get(THEME, type=Map)
        css: Text = doc.get(THEME_CSS, type=Text)
        self._targets: list[tuple[Any, Any]] = [
            (spec, spec.observe_deep(self._on_spec)),
            (theme, theme.observe_deep(self._on_theme)),
            (css, css.observe(self._on_css)),
        ]

    def _on_spec(self, events: list[Any]) -> None:
        for event in events:
            self._touched |= touched_by_spec_event(list(event.path), _event_keys(event))

    def _on_theme(self, events: list[Any]) -> None:
        for event in events:
            path = list(event.path)
            if path:
                self._touched.add(f"theme:{path[0]}")
            else:
                self._touched |= {f"theme:{key}" for key in _event_keys(event)}

    def _on_css(self, event: Any) -> None:
        self._touched.add("themeCSS")

    def take(self) -> frozenset[str]:
        touched, self._touched = frozenset(self._touched), set()
        return touched

    def close(self) -> None:
        for target, subscription in self._targets:
            target.unobserve(subscription)
        self._targets = []
