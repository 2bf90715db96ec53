"""Make parts of a Bridge document equal to a given state (pure: a pycrdt Doc is edited).

Used by version restore (every part) and by undo (only the parts a change touched). The
edits are the smallest the layout allows: an element whose props changed keeps its Y.Map
and gets only those props set or deleted, so peers editing other elements merge cleanly.
The caller opens the transaction that makes all of it one change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pycrdt import Array, Doc, Map

from ..core.errors import ValidationError
from ..core.values import normalize_json
from . import layout
from .theme import DEFAULT_THEME, parse_theme, theme_css
from .touched import ALL_ELEMENTS

__all__ = ["extract_parts", "make_equal", "read_parts", "theme_derived"]


def theme_derived(keys: Collection[str]) -> bool:
    """A change that touched theme parameters wrote their CSS too (set_theme does)."""
    return any(key.startswith("theme:") for key in keys)


def extract_parts(state: Mapping[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """The parts of a ``read_state`` dict that ``keys`` name (what undo must put back)."""
    spec = state["spec"]
    elements: dict[str, Any] = spec.get("elements", {})
    if ALL_ELEMENTS in keys:
        kept = dict(elements)
    else:
        wanted = {key.removeprefix("element:") for key in keys if key.startswith("element:")}
        kept = {key: value for key, value in elements.items() if key in wanted}
    part_spec: dict[str, Any] = {"root": spec.get("root", ""), "elements": kept}
    if "state" in keys and "state" in spec:
        part_spec["state"] = spec["state"]
    theme = state.get("theme", {})
    names = {key.removeprefix("theme:") for key in keys if key.startswith("theme:")}
    return {
        "spec": part_spec,
        "theme": {name: value for name, value in theme.items() if name in names},
        "themeCSS": state.get("themeCSS", ""),
    }


class _Edits:
    """Whether anything was written (an edit to a value already equal is skipped)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


def read_parts(doc: Doc[Any], keys: Collection[str]) -> dict[str, Any]:
    """``extract_parts(read_state(doc), keys)``, reading only what ``keys`` name."""
    with doc.transaction():
        if ALL_ELEMENTS in keys:
            elements = layout.read_spec(doc)["elements"]
        else:
            elements = {}
            for key in keys:
                if key.startswith("element:"):
                    element = layout.read_element(doc, key.removeprefix("element:"))
                    if element is not None:
                        elements[key.removeprefix("element:")] = element
        spec = layout.spec_map(doc)
        root = spec.get("root")
        part_spec: dict[str, Any] = {"root": root if isinstance(root, str) else "", "elements": elements}
        if "state" in keys and "state" in spec:
            part_spec["state"] = layout.read_spec(doc).get("state")
        names = {key.removeprefix("theme:") for key in keys if key.startswith("theme:")}
        theme = {name: value for name, value in layout.read_theme(doc).items() if name in names}
        return {"spec": part_spec, "theme": theme, "themeCSS": layout.read_theme_css(doc)}


def make_equal(doc: Doc[Any], target: Mapping[str, Any], keys: Collection[str] | None = None) -> bool:
    """Edit ``doc`` so the parts ``keys`` name (all when None) read as in ``target``.

    ``target`` has the shape of ``read_state`` (``spec``, ``theme``, ``themeCSS``); with
    ``keys``, an element or theme key named there but absent from ``target`` is deleted.
    Returns whether the document was modified.
    """
    edits = _Edits()
    every = keys is None
    wanted = set(keys or ())
    spec_target: Mapping[str, Any] = target["spec"]
    with doc.transaction():
        spec = layout.spec_map(doc)
        if every:
            for stale in [k for k in spec.keys() if k not in ("root", "elements", "state")]:  # noqa: SIM118 (pycrdt types Map.__iter__ as Iterable)
                del spec[stale]
                edits.count += 1
        if every or "root" in wanted:
            root = spec_target.get("root", "")
            if spec.get("root") != root:
                spec["root"] = root
                edits.count += 1
        if every or "state" in wanted:
            _write_state(spec, spec_target.get("state"), edits)
        if not isinstance(spec.get("elements"), Map):
            edits.count += 1  # elements_map repairs it
        elements = layout.elements_map(doc)
        target_elements: Mapping[str, Any] = spec_target.get("elements", {})
        if every or ALL_ELEMENTS in wanted:
            element_keys = set(elements.keys()) | set(target_elements)
        else:
            element_keys = {k.removeprefix("element:") for k in wanted if k.startswith("element:")}
        for key in sorted(element_keys):
            _write_element(elements, key, target_elements.get(key), edits)
        _write_theme(doc, target, every, wanted, edits)
    return edits.count > 0


def _write_state(spec: Map[Any], state: object, edits: _Edits) -> None:
    if state is None:
        if "state" in spec:
            del spec["state"]
            edits.count += 1
        return
    assert isinstance(state, Mapping)
    current = normalize_json(spec["state"]) if "state" in spec else None
    if current != dict(state):
        spec["state"] = Map(dict(state))
        edits.count += 1


def _write_element(elements: Map[Any], key: str, want: Mapping[str, Any] | None, edits: _Edits) -> None:
    if want is None:
        if key in elements:
            del elements[key]
            edits.count += 1
        return
    current = elements.get(key, None)
    if not isinstance(current, Map):
        elements[key] = layout.element_prelim(want)
        edits.count += 1
        return
    if current.get("type") != want.get("type", ""):
        current["type"] = want.get("type", "")
        edits.count += 1
    want_props: Mapping[str, Any] = want.get("props", {})
    props = current.get("props")
    if not isinstance(props, Map):
        current["props"] = Map(dict(want_props))
        edits.count += 1
    else:
        for name in [n for n in props.keys() if n not in want_props]:  # noqa: SIM118 (pycrdt types Map.__iter__ as Iterable)
            del props[name]
            edits.count += 1
        for name, value in want_props.items():
            if name not in props or normalize_json(props[name]) != value:
                props[name] = value
                edits.count += 1
    if "children" in want:
        children = current.get("children")
        wanted_children = list(want["children"])
        if not isinstance(children, Array) or not all(isinstance(c, str) for c in children):
            current["children"] = Array(wanted_children)
            edits.count += 1
        elif list(children) != wanted_children:
            children.clear()
            children.extend(wanted_children)
            edits.count += 1
    elif "children" in current:
        del current["children"]
        edits.count += 1


def _write_theme(
    doc: Doc[Any], target: Mapping[str, Any], every: bool, wanted: set[str], edits: _Edits
) -> None:
    theme: Map[Any] = doc.get(layout.THEME, type=Map)
    target_theme: Mapping[str, Any] = target.get("theme", {})
    if every:
        names = set(theme.keys()) | set(target_theme)
    else:
        names = {key.removeprefix("theme:") for key in wanted if key.startswith("theme:")}
    for name in sorted(names):
        if name not in target_theme:
            if name in theme:
                del theme[name]
                edits.count += 1
        elif name not in theme or normalize_json(theme[name]) != target_theme[name]:
            theme[name] = target_theme[name]
            edits.count += 1
    if every:
        _write_css(doc, str(target.get("themeCSS", "")), edits)
    elif "themeCSS" in wanted:
        if theme_derived(wanted):
            # Other theme keys may have moved since: the CSS follows the theme as it is now.
            try:
                css = theme_css(parse_theme(layout.read_theme(doc), DEFAULT_THEME))
            except ValidationError:
                css = str(target.get("themeCSS", ""))
        else:
            css = str(target.get("themeCSS", ""))
        _write_css(doc, css, edits)


def _write_css(doc: Doc[Any], css: str, edits: _Edits) -> None:
    if layout.read_theme_css(doc) != css:
        layout.write_theme_css(doc, css)
        edits.count += 1
