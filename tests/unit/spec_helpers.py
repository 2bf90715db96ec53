"""The fixture document and helpers shared by the spec-op tests."""

from __future__ import annotations

import copy
from typing import Any

from pycrdt import Doc

from actors.bridge.layout import init_session, read_spec, read_state
from actors.bridge.spec_ops import OpsResult, apply_ops, validate_spec
from actors.bridge.theme import DEFAULT_THEME

from .doc_helpers import updates_of as updates_of

# page -> form -> (email, submit); page -> footer; "shared" is a child of both form and footer
SPEC: dict[str, Any] = {
    "root": "page",
    "elements": {
        "page": {"type": "Card", "props": {"className": "p-6"}, "children": ["form", "footer"]},
        "form": {"type": "Form", "props": {}, "children": ["email", "submit", "shared"]},
        "email": {"type": "Input", "props": {"type": "email"}},
        "submit": {"type": "Button", "props": {"children": "Submit", "size": 2}},
        "footer": {"type": "Footer", "props": {}, "children": ["shared"]},
        "shared": {"type": "Text", "props": {"children": "(c)"}},
    },
}


def make_doc() -> Doc[Any]:
    doc: Doc[Any] = Doc()
    init_session(doc, validate_spec(copy.deepcopy(SPEC)), DEFAULT_THEME, {"id": "s1"})
    return doc


def elements_of(doc: Doc[Any]) -> dict[str, Any]:
    elements: dict[str, Any] = read_spec(doc)["elements"]
    return elements


def children_of(doc: Doc[Any]) -> dict[str, list[str]]:
    """The tree's structure: an element without ``children`` has none (the field itself
    stays absent in the spec; tests of that fidelity read ``elements_of``)."""
    return {key: el.get("children", []) for key, el in elements_of(doc).items()}


def one_error(doc: Doc[Any], op: object, **kwargs: Any) -> str:
    """Apply a single op expected to fail; the document must not change at all."""
    before = read_state(doc)
    updates = updates_of(doc)
    result = apply_ops(doc, [op], **kwargs)
    assert result.applied == 0
    assert result.changed is False
    assert len(result.errors) == 1
    assert result.errors[0]["index"] == 0
    assert updates == []
    assert read_state(doc) == before
    message: str = result.errors[0]["error"]
    return message


def apply_ok(doc: Doc[Any], *ops: object) -> OpsResult:
    result = apply_ops(doc, list(ops))
    assert result.errors == []
    assert result.applied == len(ops)
    return result


def add_op(**overrides: Any) -> dict[str, Any]:
    """An add_element op with defaults, fields overridden by keyword."""
    op: dict[str, Any] = {
        "op": "add_element",
        "key": "new",
        "parentKey": "form",
        "element": {"type": "Text", "props": {}},
    }
    op.update(overrides)
    return op
