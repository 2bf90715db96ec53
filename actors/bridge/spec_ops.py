"""Bridge SpecOps applied to a session document (pure: a pycrdt Doc in, an OpsResult out).

``apply_ops`` runs a request's operations in order inside ONE ``doc.transaction()`` so
browsers receive a single update. Each operation is validated in full against the
document as earlier operations of the same call left it, and only then mutated: an
invalid operation is reported in ``OpsResult.errors`` and skipped, never half-applied,
and the valid ones around it still apply.

Validation reads a Python mirror of the element tree (``_Tree``: root plus each element's
children), loaded once per call and kept in step with every mutation, so checking an
operation does not re-read the whole document.

Rules beyond the spec's types, chosen here:

* Element keys are non-empty strings (``""`` is the "no root" sentinel).
* A child list has no duplicates; every child must name an existing element; an element
  tree may not contain cycles (a renderer would recurse forever).
* ``add_element`` children must already exist; add them first, then the parent.
* Operations, elements and ``replace_spec`` specs reject unknown fields so a misspelt
  optional field (``idx`` for ``index``) is reported rather than ignored.
* JSON values must be storable: integers within +-(2**53-1), finite floats, valid Unicode
  strings, nesting at most ``MAX_JSON_DEPTH`` deep. pycrdt panics on the first two
  violations, and browsers could not read big integers exactly anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec
from pycrdt import Doc

from ..core.bodies import Body
from ..core.errors import OpError, ValidationError
from ..core.values import MAX_JSON_DEPTH, check_json_object, check_json_value, check_key, check_str, show_keys
from . import layout
from .shapes import SPEC_OPS
from .spec_check import check_element, validate_spec
from .theme import DEFAULT_THEME, parse_theme, theme_css

__all__ = [
    "DEFAULT_MAX_CSS_BYTES",
    "DEFAULT_MAX_OPS",
    "MAX_JSON_DEPTH",
    "OpKind",
    "OpsResult",
    "apply_ops",
    "check_op_count",
    "validate_spec",
]

DEFAULT_MAX_OPS = 1000
DEFAULT_MAX_CSS_BYTES = 65536


class OpKind(StrEnum):
    ADD_ELEMENT = "add_element"
    REMOVE_ELEMENT = "remove_element"
    UPDATE_PROPS = "update_props"
    SET_PROP = "set_prop"
    REMOVE_PROP = "remove_prop"
    REORDER_CHILDREN = "reorder_children"
    SET_ROOT = "set_root"
    REPLACE_SPEC = "replace_spec"
    SET_THEME = "set_theme"
    SET_THEME_CSS = "set_theme_css"


def _fields(kind: type[Body]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """An op type's (required, optional) fields as a client writes them, "op" excluded."""
    fields = msgspec.structs.fields(kind)
    return (
        tuple(f.encode_name for f in fields if f.required),
        tuple(f.encode_name for f in fields if not f.required),
    )


# kind -> (required fields, optional fields): from the op types the document is made of.
_FIELDS: dict[OpKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    OpKind(str(kind.__struct_config__.tag)): _fields(kind) for kind in SPEC_OPS
}


# What a missing required field should have been, for the error message.
_MISSING: dict[str, str] = {
    "key": "required non-empty string",
    "element": "required object",
    "parentKey": "required non-empty string",
    "props": "required object",
    "prop": "required string",
    "value": "required (any JSON value, null included)",
    "children": "required array of strings",
    "root": "required non-empty string",
    "spec": "required object",
    "theme": "required object",
    "css": "required string",
}


@dataclass(frozen=True, slots=True)
class OpsResult:
    """``applied`` counts valid ops (no-ops included); ``changed`` is whether the document
    was actually modified; ``errors`` holds ``{"index", "op", "error"}`` per skipped op."""

    applied: int
    errors: list[dict[str, Any]]
    changed: bool


def apply_ops(
    doc: Doc[Any],
    ops: list[object],
    *,
    max_css_bytes: int = DEFAULT_MAX_CSS_BYTES,
    max_ops: int = DEFAULT_MAX_OPS,
    origin: object = None,
) -> OpsResult:
    """Apply ``ops`` in order as one transaction (tagged with ``origin``, if given).

    Raises ``ValidationError("ops", ...)`` only when there are more than ``max_ops``;
    everything else is reported per op.
    """
    check_op_count(ops, max_ops)
    applied = 0
    changed = False
    errors: list[dict[str, Any]] = []
    with doc.transaction(origin=origin):
        ctx = _Context(doc, _Tree.load(doc), max_css_bytes)
        for index, op in enumerate(ops):
            try:
                mutate = _plan(ctx, index, op)
            except (ValidationError, OpError) as exc:
                errors.append({"index": index, "op": _op_name(op), "error": str(exc)})
                continue
            changed = mutate() or changed
            applied += 1
    return OpsResult(applied=applied, errors=errors, changed=changed)


def check_op_count(ops: Sequence[object], max_ops: int) -> None:
    """A setting bounds the ops of one request (``ATELIER_MAX_OPS_PER_REQUEST``)."""
    if len(ops) > max_ops:
        raise ValidationError("ops", f"at most {max_ops} operations per request, got {len(ops)}")


def _op_name(op: object) -> str | None:
    if isinstance(op, Mapping):
        name = op.get("op")
        if isinstance(name, str):
            return name
    return None


@dataclass(slots=True)
class _Tree:
    """The element tree as validation sees it: root and each element's children."""

    root: str
    children: dict[str, list[str]]

    @classmethod
    def load(cls, doc: Doc[Any]) -> _Tree:
        root, children = layout.read_structure(doc)
        return cls(root, children)

    def require(self, key: str, field_name: str) -> list[str]:
        if key not in self.children:
            raise OpError(f"{field_name}: element '{key}' does not exist")
        return self.children[key]

    def reachable(self, starts: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(starts)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            stack.extend(self.children.get(key, ()))
        return seen

    def removal_set(self, key: str) -> set[str]:
        """``key`` plus descendants that no surviving element references any more.

        Repeats until stable: a shared child is kept while any parent survives, and
        becomes removable once the last of its parents is removed.
        """
        parents: dict[str, set[str]] = {}
        for parent, kids in self.children.items():
            for kid in kids:
                parents.setdefault(kid, set()).add(parent)
        removed = {key}
        grew = True
        while grew:
            grew = False
            for candidate in self.reachable(self.children[key]):
                if candidate in removed or candidate == self.root:
                    continue
                if candidate in self.children and parents[candidate] <= removed:
                    removed.add(candidate)
                    grew = True
        return removed


@dataclass(slots=True)
class _Context:
    doc: Doc[Any]
    tree: _Tree
    max_css_bytes: int


# A validated op, ready to run; returns whether it modified the document.
_Mutation = Callable[[], bool]


def _plan(ctx: _Context, index: int, op: object) -> _Mutation:
    prefix = f"ops[{index}]"
    if not isinstance(op, Mapping):
        raise ValidationError(prefix, "must be an object")
    name = op.get("op")
    if not isinstance(name, str):
        raise ValidationError(f"{prefix}.op", "required string")
    try:
        kind = OpKind(name)
    except ValueError:
        expected = ", ".join(k.value for k in OpKind)
        raise ValidationError(f"{prefix}.op", f"unknown op '{name}' (expected one of {expected})") from None
    required, optional = _FIELDS[kind]
    for key in op:
        if key != "op" and key not in required and key not in optional:
            allowed = ", ".join((*required, *optional))
            raise ValidationError(f"{prefix}.{key}", f"unknown field for {kind.value} (allowed: {allowed})")
    for key in required:
        if key not in op:
            raise ValidationError(f"{prefix}.{key}", _MISSING[key])
    return _PLANNERS[kind](ctx, prefix, op)


def _plan_add_element(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    tree = ctx.tree
    key = check_key(op["key"], f"{p}.key")
    element = check_element(op["element"], f"{p}.element")
    parent_key = check_key(op["parentKey"], f"{p}.parentKey")
    if key in tree.children:
        raise OpError(f"{p}.key: element '{key}' already exists")
    siblings = tree.require(parent_key, f"{p}.parentKey")
    kids: list[str] = element.get("children", [])
    for kid in kids:
        if kid not in tree.children:
            raise OpError(
                f"{p}.element.children: element '{kid}' does not exist "
                "(children must reference existing elements; add them first)"
            )
    if parent_key in tree.reachable(kids):
        raise OpError(
            f"{p}.element.children: parentKey '{parent_key}' is a descendant of these "
            "children; adding the element would create a cycle"
        )
    position = op.get("index")
    if position is None:
        position = len(siblings)
    elif isinstance(position, bool) or not isinstance(position, int):
        raise ValidationError(f"{p}.index", "must be an integer")
    elif not 0 <= position <= len(siblings):
        raise OpError(
            f"{p}.index: must be between 0 and {len(siblings)} "
            f"(parent '{parent_key}' has {len(siblings)} children)"
        )
    at: int = position

    def mutate() -> bool:
        layout.elements_map(ctx.doc)[key] = layout.element_prelim(element)
        # A parent written without children gains the field now, with its first child.
        parent_children = layout.children_array(ctx.doc, parent_key)
        assert parent_children is not None
        parent_children.insert(at, key)
        tree.children[key] = list(kids)
        siblings.insert(at, key)
        return True

    return mutate


def _plan_remove_element(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    tree = ctx.tree
    key = check_key(op["key"], f"{p}.key")
    tree.require(key, f"{p}.key")
    if key == tree.root:
        raise OpError(f"{p}.key: cannot remove the root element '{key}' (set_root or replace_spec first)")
    removed = tree.removal_set(key)

    def mutate() -> bool:
        elements = layout.elements_map(ctx.doc)
        for gone in removed:
            del elements[gone]
            del tree.children[gone]
        for parent_key, kids in tree.children.items():
            if not any(kid in removed for kid in kids):
                continue
            kids[:] = [kid for kid in kids if kid not in removed]
            parent = layout.element_map(ctx.doc, parent_key)
            assert parent is not None
            array = parent["children"]
            # Back to front so the positions still to visit stay valid while deleting.
            for i in reversed(range(len(array))):
                if array[i] in removed:
                    del array[i]
        return True

    return mutate


def _plan_update_props(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    key = check_key(op["key"], f"{p}.key")
    props = check_json_object(op["props"], f"{p}.props")
    ctx.tree.require(key, f"{p}.key")

    def mutate() -> bool:
        element = layout.element_map(ctx.doc, key)
        assert element is not None
        for name, value in props.items():
            element["props"][name] = value
        return bool(props)

    return mutate


def _plan_set_prop(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    key = check_key(op["key"], f"{p}.key")
    prop = _prop_name(op["prop"], f"{p}.prop")
    value = op["value"]
    check_json_value(value, f"{p}.value")
    ctx.tree.require(key, f"{p}.key")

    def mutate() -> bool:
        element = layout.element_map(ctx.doc, key)
        assert element is not None
        element["props"][prop] = value
        return True

    return mutate


def _plan_remove_prop(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    key = check_key(op["key"], f"{p}.key")
    prop = _prop_name(op["prop"], f"{p}.prop")
    ctx.tree.require(key, f"{p}.key")

    def mutate() -> bool:
        element = layout.element_map(ctx.doc, key)
        assert element is not None
        props = element["props"]
        # Removing what is already gone is the idempotent outcome the caller wanted.
        if prop not in props:
            return False
        del props[prop]
        return True

    return mutate


def _plan_reorder_children(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    key = check_key(op["key"], f"{p}.key")
    order = op["children"]
    if not isinstance(order, list) or not all(isinstance(kid, str) for kid in order):
        raise ValidationError(f"{p}.children", "required array of strings")
    current = ctx.tree.require(key, f"{p}.key")
    if sorted(order) != sorted(current):
        raise OpError(
            f"{p}.children: must be a permutation of the current children of '{key}' {show_keys(current)}"
        )
    new_order: list[str] = list(order)

    def mutate() -> bool:
        if new_order == current:
            return False
        element = layout.element_map(ctx.doc, key)
        assert element is not None
        children = element["children"]
        children.clear()
        children.extend(new_order)
        current[:] = new_order
        return True

    return mutate


def _plan_set_root(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    root = check_key(op["root"], f"{p}.root")
    ctx.tree.require(root, f"{p}.root")

    def mutate() -> bool:
        if root == ctx.tree.root:
            return False
        layout.write_root(ctx.doc, root)
        ctx.tree.root = root
        return True

    return mutate


def _plan_replace_spec(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    spec = validate_spec(op["spec"], field=f"{p}.spec")

    def mutate() -> bool:
        layout.write_spec(ctx.doc, spec)
        ctx.tree.root = spec["root"]
        ctx.tree.children = {key: list(el.get("children", ())) for key, el in spec["elements"].items()}
        return True

    return mutate


def _plan_set_theme(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    try:
        base = parse_theme(layout.read_theme(ctx.doc), DEFAULT_THEME)
    except ValidationError:
        # The stored theme is whatever a browser last wrote; when it is not valid the op's
        # values are merged over the defaults instead of failing an otherwise good op.
        base = DEFAULT_THEME
    params = parse_theme(op["theme"], base, field=f"{p}.theme")
    css = theme_css(params)

    def mutate() -> bool:
        if layout.read_theme(ctx.doc) == params.to_json() and (layout.read_theme_css(ctx.doc) == css):
            return False
        layout.write_theme(ctx.doc, params)
        layout.write_theme_css(ctx.doc, css)
        return True

    return mutate


def _plan_set_theme_css(ctx: _Context, p: str, op: Mapping[str, Any]) -> _Mutation:
    css = op["css"]
    if not isinstance(css, str):
        raise ValidationError(f"{p}.css", "required string")
    check_str(css, f"{p}.css")
    size = len(css.encode("utf-8"))
    if size > ctx.max_css_bytes:
        raise ValidationError(f"{p}.css", f"must be at most {ctx.max_css_bytes} bytes of UTF-8, got {size}")

    def mutate() -> bool:
        if layout.read_theme_css(ctx.doc) == css:
            return False
        layout.write_theme_css(ctx.doc, css)
        return True

    return mutate


def _prop_name(value: object, field_name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field_name, "required string")
    return check_str(value, field_name)


_PLANNERS: dict[OpKind, Callable[[_Context, str, Mapping[str, Any]], _Mutation]] = {
    OpKind.ADD_ELEMENT: _plan_add_element,
    OpKind.REMOVE_ELEMENT: _plan_remove_element,
    OpKind.UPDATE_PROPS: _plan_update_props,
    OpKind.SET_PROP: _plan_set_prop,
    OpKind.REMOVE_PROP: _plan_remove_prop,
    OpKind.REORDER_CHILDREN: _plan_reorder_children,
    OpKind.SET_ROOT: _plan_set_root,
    OpKind.REPLACE_SPEC: _plan_replace_spec,
    OpKind.SET_THEME: _plan_set_theme,
    OpKind.SET_THEME_CSS: _plan_set_theme_css,
}
