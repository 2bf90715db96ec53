from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from pycrdt import Doc, TransactionEvent

from actors.core.errors import OpError, ValidationError
from actors.core.layout import (
    MAX_SAFE_INTEGER,
    init_session,
    read_spec,
    read_state,
    read_theme,
    read_theme_css,
    spec_map,
    write_theme_css,
)
from actors.core.spec_ops import (
    DEFAULT_MAX_CSS_BYTES,
    DEFAULT_MAX_OPS,
    MAX_JSON_DEPTH,
    OpKind,
    OpsResult,
    apply_ops,
    validate_ops_request,
    validate_spec,
)
from actors.core.theme import DEFAULT_THEME, ThemeParams, theme_css

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


def _doc() -> Doc[Any]:
    doc: Doc[Any] = Doc()
    init_session(doc, validate_spec(copy.deepcopy(SPEC)), DEFAULT_THEME, {"id": "s1"})
    return doc


def _elements(doc: Doc[Any]) -> dict[str, Any]:
    elements: dict[str, Any] = read_spec(doc)["elements"]
    return elements


def _children(doc: Doc[Any]) -> dict[str, list[str]]:
    return {key: el["children"] for key, el in _elements(doc).items()}


def _updates(doc: Doc[Any]) -> list[bytes]:
    seen: list[bytes] = []

    def on_update(event: TransactionEvent) -> None:
        seen.append(event.update)

    doc.observe(on_update)
    return seen


def _one_error(doc: Doc[Any], op: object, **kwargs: Any) -> str:
    """Apply a single op expected to fail; the document must not change at all."""
    before = read_state(doc)
    updates = _updates(doc)
    result = apply_ops(doc, [op], **kwargs)
    assert result.applied == 0
    assert result.changed is False
    assert len(result.errors) == 1
    assert result.errors[0]["index"] == 0
    assert updates == []
    assert read_state(doc) == before
    message: str = result.errors[0]["error"]
    return message


def _ok(doc: Doc[Any], *ops: object) -> OpsResult:
    result = apply_ops(doc, list(ops))
    assert result.errors == []
    assert result.applied == len(ops)
    return result


# --- add_element -----------------------------------------------------------------------


def test_add_element_appends_by_default() -> None:
    doc = _doc()
    result = _ok(
        doc,
        {
            "op": "add_element",
            "key": "password",
            "parentKey": "form",
            "element": {"type": "Input", "props": {"type": "password", "maxLength": 64}},
        },
    )
    assert result.changed is True
    assert _elements(doc)["password"] == {
        "type": "Input",
        "props": {"type": "password", "maxLength": 64},
        "children": [],
    }
    assert _children(doc)["form"] == ["email", "submit", "shared", "password"]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, ["new", "email", "submit", "shared"]),
        (1, ["email", "new", "submit", "shared"]),
        (3, ["email", "submit", "shared", "new"]),
        (None, ["email", "submit", "shared", "new"]),
    ],
)
def test_add_element_at_index(index: int | None, expected: list[str]) -> None:
    doc = _doc()
    _ok(
        doc,
        {
            "op": "add_element",
            "key": "new",
            "parentKey": "form",
            "index": index,
            "element": {"type": "Separator", "props": {}},
        },
    )
    assert _children(doc)["form"] == expected


def test_add_element_with_existing_children() -> None:
    doc = _doc()
    _ok(
        doc,
        {
            "op": "add_element",
            "key": "row",
            "parentKey": "page",
            "element": {"type": "Row", "props": {}, "children": ["email", "submit"]},
        },
    )
    assert _children(doc)["row"] == ["email", "submit"]
    assert _children(doc)["page"] == ["form", "footer", "row"]


def _add(**overrides: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "op": "add_element",
        "key": "new",
        "parentKey": "form",
        "element": {"type": "Text", "props": {}},
    }
    op.update(overrides)
    return op


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (_add(key="email"), "ops[0].key: element 'email' already exists"),
        (_add(key=""), "ops[0].key: required non-empty string"),
        (_add(key=5), "ops[0].key: required non-empty string"),
        (_add(parentKey="nope"), "ops[0].parentKey: element 'nope' does not exist"),
        (_add(parentKey=None), "ops[0].parentKey: required non-empty string"),
        (
            _add(index=4),
            "ops[0].index: must be between 0 and 3 (parent 'form' has 3 children)",
        ),
        (
            _add(index=-1),
            "ops[0].index: must be between 0 and 3 (parent 'form' has 3 children)",
        ),
        (_add(index=True), "ops[0].index: must be an integer"),
        (_add(index=1.0), "ops[0].index: must be an integer"),
        (_add(element="Text"), "ops[0].element: must be an object"),
        (_add(element={"props": {}}), "ops[0].element.type: required non-empty string"),
        (_add(element={"type": "", "props": {}}), "ops[0].element.type: required non-empty string"),
        (_add(element={"type": "Text"}), "ops[0].element.props: required object"),
        (_add(element={"type": "Text", "props": []}), "ops[0].element.props: required object"),
        (
            _add(element={"type": "Text", "props": {}, "visible": True}),
            "ops[0].element.visible: unknown key (allowed: type, props, children)",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": "email"}),
            "ops[0].element.children: must be an array of element keys",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": ["email", ""]}),
            "ops[0].element.children[1]: required non-empty string",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": ["email", "email"]}),
            "ops[0].element.children: lists 'email' more than once",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": ["ghost"]}),
            "ops[0].element.children: element 'ghost' does not exist "
            "(children must reference existing elements; add them first)",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": ["page"]}),
            "ops[0].element.children: parentKey 'form' is a descendant of these children; "
            "adding the element would create a cycle",
        ),
        (
            _add(element={"type": "Text", "props": {}, "children": ["form"]}),
            "ops[0].element.children: parentKey 'form' is a descendant of these children; "
            "adding the element would create a cycle",
        ),
        (
            _add(element={"type": "Text", "props": {"n": math.nan}}),
            "ops[0].element.props.n: must be a finite number",
        ),
        (
            _add(idx=1),
            "ops[0].idx: unknown field for add_element (allowed: key, element, parentKey, index)",
        ),
        ({"op": "add_element", "key": "x", "parentKey": "form"}, "ops[0].element: required object"),
    ],
)
def test_add_element_errors(op: dict[str, Any], error: str) -> None:
    assert _one_error(_doc(), op) == error


# --- remove_element --------------------------------------------------------------------


def test_remove_leaf() -> None:
    doc = _doc()
    assert _ok(doc, {"op": "remove_element", "key": "email"}).changed is True
    assert "email" not in _elements(doc)
    assert _children(doc)["form"] == ["submit", "shared"]


def test_remove_subtree_keeps_children_still_referenced_elsewhere() -> None:
    doc = _doc()
    _ok(doc, {"op": "remove_element", "key": "form"})
    assert _children(doc) == {"page": ["footer"], "footer": ["shared"], "shared": []}


def test_remove_shared_child_removes_it_from_every_parent() -> None:
    doc = _doc()
    _ok(doc, {"op": "remove_element", "key": "shared"})
    assert _children(doc)["form"] == ["email", "submit"]
    assert _children(doc)["footer"] == []
    assert "shared" not in _elements(doc)


def test_remove_child_shared_only_within_the_removed_subtree() -> None:
    doc = _doc()
    _ok(
        doc,
        {
            "op": "add_element",
            "key": "wrap",
            "parentKey": "page",
            "element": {"type": "Wrap", "props": {}, "children": ["form", "footer"]},
        },
        {"op": "reorder_children", "key": "page", "children": ["footer", "form", "wrap"]},
        {"op": "remove_element", "key": "form"},
        {"op": "remove_element", "key": "footer"},
    )
    # once both form and footer are gone nothing references shared any more
    assert _children(doc) == {"page": ["wrap"], "wrap": []}


def test_remove_handles_cycles_written_by_peers() -> None:
    doc = _doc()
    with doc.transaction():
        # a browser made email and submit children of each other, and submit no longer
        # a child of form: the pair is only referenced from inside the cycle
        elements = spec_map(doc)["elements"]
        elements["email"]["children"].append("submit")
        elements["submit"]["children"].append("email")
        del elements["form"]["children"][1]
    _ok(doc, {"op": "remove_element", "key": "email"})
    assert _children(doc) == {
        "page": ["form", "footer"],
        "form": ["shared"],
        "footer": ["shared"],
        "shared": [],
    }


def test_remove_keeps_cycle_member_referenced_from_outside() -> None:
    doc = _doc()
    with doc.transaction():
        elements = spec_map(doc)["elements"]
        elements["email"]["children"].append("submit")
        elements["submit"]["children"].append("email")
    _ok(doc, {"op": "remove_element", "key": "email"})
    assert _children(doc) == {
        "page": ["form", "footer"],
        "form": ["submit", "shared"],
        "footer": ["shared"],
        "submit": [],
        "shared": [],
    }


def test_remove_element_errors() -> None:
    assert (
        _one_error(_doc(), {"op": "remove_element", "key": "page"})
        == "ops[0].key: cannot remove the root element 'page' (set_root or replace_spec first)"
    )
    assert (
        _one_error(_doc(), {"op": "remove_element", "key": "ghost"})
        == "ops[0].key: element 'ghost' does not exist"
    )
    assert (
        _one_error(_doc(), {"op": "remove_element"})
        == "ops[0].key: required non-empty string"
    )


# --- props -----------------------------------------------------------------------------


def test_update_props_is_a_shallow_merge() -> None:
    doc = _doc()
    _ok(doc, {"op": "set_prop", "key": "email", "prop": "style", "value": {"a": 1, "b": 2}})
    _ok(
        doc,
        {
            "op": "update_props",
            "key": "email",
            "props": {"placeholder": "you@x.com", "style": {"a": 3}, "type": "text"},
        },
    )
    assert _elements(doc)["email"]["props"] == {
        "type": "text",
        "placeholder": "you@x.com",
        "style": {"a": 3},
    }


def test_update_props_with_nothing_changes_nothing() -> None:
    doc = _doc()
    updates = _updates(doc)
    result = _ok(doc, {"op": "update_props", "key": "email", "props": {}})
    assert result.changed is False
    assert updates == []


def test_set_prop_values() -> None:
    doc = _doc()
    _ok(
        doc,
        {"op": "set_prop", "key": "submit", "prop": "children", "value": "Welcome Back"},
        {"op": "set_prop", "key": "submit", "prop": "disabled", "value": None},
        {"op": "set_prop", "key": "submit", "prop": "size", "value": 3},
        {"op": "set_prop", "key": "submit", "prop": "list", "value": [1, 2.5, {"x": [True]}]},
        {"op": "set_prop", "key": "submit", "prop": "", "value": MAX_SAFE_INTEGER},
    )
    assert _elements(doc)["submit"]["props"] == {
        "children": "Welcome Back",
        "disabled": None,
        "size": 3,
        "list": [1, 2.5, {"x": [True]}],
        "": MAX_SAFE_INTEGER,
    }


def test_remove_prop_and_missing_prop_is_a_no_op() -> None:
    doc = _doc()
    assert _ok(doc, {"op": "remove_prop", "key": "submit", "prop": "size"}).changed is True
    assert _elements(doc)["submit"]["props"] == {"children": "Submit"}
    updates = _updates(doc)
    result = _ok(doc, {"op": "remove_prop", "key": "submit", "prop": "size"})
    assert (result.applied, result.changed) == (1, False)
    assert updates == []


def _deep(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (
            {"op": "update_props", "key": "ghost", "props": {}},
            "ops[0].key: element 'ghost' does not exist",
        ),
        ({"op": "update_props", "key": "email", "props": [1]}, "ops[0].props: required object"),
        ({"op": "update_props", "key": "email"}, "ops[0].props: required object"),
        (
            {"op": "update_props", "key": "email", "props": {"ok": 1, "bad": math.inf}},
            "ops[0].props.bad: must be a finite number",
        ),
        (
            {"op": "update_props", "key": "email", "props": {"n": MAX_SAFE_INTEGER + 1}},
            "ops[0].props.n: integer out of range (must be within +-(2**53-1))",
        ),
        (
            {"op": "update_props", "key": "email", "props": {"n": -(2**70)}},
            "ops[0].props.n: integer out of range (must be within +-(2**53-1))",
        ),
        (
            {"op": "update_props", "key": "email", "props": {"s": "bad\ud800"}},
            "ops[0].props.s: must be valid Unicode (no lone surrogates)",
        ),
        (
            {"op": "update_props", "key": "email", "props": {"t": (1, 2)}},
            "ops[0].props.t: not a JSON value (tuple)",
        ),
        (
            {"op": "update_props", "key": "email", "props": {"o": {1: "x"}}},
            "ops[0].props.o: object keys must be strings",
        ),
        (
            {"op": "set_prop", "key": "email", "prop": "d", "value": _deep(MAX_JSON_DEPTH + 1)},
            "ops[0].value" + "[0]" * (MAX_JSON_DEPTH + 1)
            + f": nested deeper than {MAX_JSON_DEPTH} levels",
        ),
        (
            {"op": "set_prop", "key": "email", "prop": "p"},
            "ops[0].value: required (any JSON value, null included)",
        ),
        ({"op": "set_prop", "key": "email", "prop": 3, "value": 1}, "ops[0].prop: required string"),
        (
            {"op": "set_prop", "key": "ghost", "prop": "p", "value": 1},
            "ops[0].key: element 'ghost' does not exist",
        ),
        (
            {"op": "set_prop", "key": "email", "prop": "p", "value": [1, {"x": math.nan}]},
            "ops[0].value[1].x: must be a finite number",
        ),
        ({"op": "remove_prop", "key": "email"}, "ops[0].prop: required string"),
        (
            {"op": "remove_prop", "key": "ghost", "prop": "p"},
            "ops[0].key: element 'ghost' does not exist",
        ),
    ],
)
def test_prop_errors(op: dict[str, Any], error: str) -> None:
    assert _one_error(_doc(), op) == error


def test_json_depth_limit_is_inclusive() -> None:
    doc = _doc()
    _ok(doc, {"op": "set_prop", "key": "email", "prop": "d", "value": _deep(MAX_JSON_DEPTH)})
    assert _elements(doc)["email"]["props"]["d"] == _deep(MAX_JSON_DEPTH)


# --- reorder_children / set_root -------------------------------------------------------


def test_reorder_children() -> None:
    doc = _doc()
    result = _ok(
        doc, {"op": "reorder_children", "key": "form", "children": ["shared", "email", "submit"]}
    )
    assert result.changed is True
    assert _children(doc)["form"] == ["shared", "email", "submit"]


def test_reorder_to_same_order_is_a_no_op() -> None:
    doc = _doc()
    updates = _updates(doc)
    result = _ok(
        doc, {"op": "reorder_children", "key": "form", "children": ["email", "submit", "shared"]}
    )
    assert result.changed is False
    assert updates == []


@pytest.mark.parametrize(
    ("children", "error"),
    [
        (
            ["email", "submit"],
            "ops[0].children: must be a permutation of the current children of 'form' "
            "['email', 'submit', 'shared']",
        ),
        (
            ["email", "submit", "shared", "footer"],
            "ops[0].children: must be a permutation of the current children of 'form' "
            "['email', 'submit', 'shared']",
        ),
        (
            ["email", "email", "shared"],
            "ops[0].children: must be a permutation of the current children of 'form' "
            "['email', 'submit', 'shared']",
        ),
        ("email", "ops[0].children: required array of strings"),
        ([1, 2, 3], "ops[0].children: required array of strings"),
    ],
)
def test_reorder_errors(children: object, error: str) -> None:
    op = {"op": "reorder_children", "key": "form", "children": children}
    assert _one_error(_doc(), op) == error


def test_reorder_missing_element() -> None:
    assert (
        _one_error(_doc(), {"op": "reorder_children", "key": "ghost", "children": []})
        == "ops[0].key: element 'ghost' does not exist"
    )


def test_set_root() -> None:
    doc = _doc()
    assert _ok(doc, {"op": "set_root", "root": "form"}).changed is True
    assert read_spec(doc)["root"] == "form"
    assert _ok(doc, {"op": "set_root", "root": "form"}).changed is False
    # the old root is now an ordinary element and can be removed
    _ok(doc, {"op": "remove_element", "key": "page"})
    assert sorted(_elements(doc)) == ["email", "form", "shared", "submit"]


def test_set_root_errors() -> None:
    assert _one_error(_doc(), {"op": "set_root", "root": "ghost"}) == (
        "ops[0].root: element 'ghost' does not exist"
    )
    assert _one_error(_doc(), {"op": "set_root", "root": ""}) == (
        "ops[0].root: required non-empty string"
    )


# --- replace_spec / validate_spec -----------------------------------------------------


def test_replace_spec() -> None:
    doc = _doc()
    new = {
        "root": "a",
        "elements": {
            "a": {"type": "Stack", "props": {"gap": 4}, "children": ["b"]},
            "b": {"type": "Text", "props": {}},
        },
        "state": {"count": 0},
    }
    assert _ok(doc, {"op": "replace_spec", "spec": new}).changed is True
    assert read_spec(doc) == {
        "root": "a",
        "elements": {
            "a": {"type": "Stack", "props": {"gap": 4}, "children": ["b"]},
            "b": {"type": "Text", "props": {}, "children": []},
        },
        "state": {"count": 0},
    }
    # later ops in the same call see the replaced tree
    _ok(doc, {"op": "replace_spec", "spec": {"root": "", "elements": {}}})
    assert read_spec(doc) == {"root": "", "elements": {}}


def test_ops_after_replace_spec_see_new_tree() -> None:
    doc = _doc()
    result = apply_ops(
        doc,
        [
            {
                "op": "replace_spec",
                "spec": {"root": "a", "elements": {"a": {"type": "Box", "props": {}}}},
            },
            {
                "op": "add_element",
                "key": "email",
                "parentKey": "a",
                "element": {"type": "Input", "props": {}},
            },
            {"op": "remove_element", "key": "form"},
        ],
    )
    assert result.applied == 2
    assert result.errors == [
        {"index": 2, "op": "remove_element", "error": "ops[2].key: element 'form' does not exist"}
    ]
    assert _children(doc) == {"a": ["email"], "email": []}


def test_validate_spec_canonical_form() -> None:
    empty = validate_spec({"root": "", "elements": {}, "state": None})
    assert empty == {"root": "", "elements": {}}
    assert validate_spec(SPEC)["elements"]["email"] == {
        "type": "Input",
        "props": {"type": "email"},
        "children": [],
    }


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ([], "spec", "must be an object"),
        ({"elements": {}}, "spec.root", "required string"),
        ({"root": 1, "elements": {}}, "spec.root", "required string"),
        ({"root": ""}, "spec.elements", "required object"),
        ({"root": "", "elements": []}, "spec.elements", "required object"),
        (
            {"root": "", "elements": {}, "extra": 1},
            "spec.extra",
            "unknown key (allowed: root, elements, state)",
        ),
        ({"root": "a", "elements": {}}, "spec.root", 'must be "" when elements is empty'),
        (
            {"root": "b", "elements": {"a": {"type": "T", "props": {}}}},
            "spec.root",
            "element 'b' is not in elements",
        ),
        (
            {"root": "", "elements": {"a": {"type": "T", "props": {}}}},
            "spec.root",
            "element '' is not in elements",
        ),
        (
            {"root": "a", "elements": {"": {"type": "T", "props": {}}}},
            "spec.elements",
            "element keys must be non-empty strings",
        ),
        (
            {
                "root": "heading",
                "elements": {"heading": {"type": "H", "props": {}, "children": ["ghost"]}},
            },
            "spec.elements.heading.children",
            "references missing element 'ghost'",
        ),
        (
            {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": ["a"]}}},
            "spec.elements.a.children",
            "creates a cycle: 'a' -> 'a'",
        ),
        (
            {
                "root": "a",
                "elements": {
                    "a": {"type": "T", "props": {}, "children": ["b"]},
                    "b": {"type": "T", "props": {}, "children": ["c"]},
                    "c": {"type": "T", "props": {}, "children": ["a"]},
                },
            },
            "spec.elements.c.children",
            "creates a cycle: 'a' -> 'b' -> 'c' -> 'a'",
        ),
        (
            {"root": "a", "elements": {"a": {"type": "T"}}},
            "spec.elements.a.props",
            "required object",
        ),
        (
            {"root": "a", "elements": {"a": {"type": "T", "props": {}}}, "state": []},
            "spec.state",
            "required object",
        ),
        (
            {"root": "a", "elements": {"a": {"type": "T", "props": {}}}, "state": {"x": math.nan}},
            "spec.state.x",
            "must be a finite number",
        ),
    ],
)
def test_validate_spec_errors(spec: object, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_spec(spec)
    assert (info.value.field, info.value.message) == (field, message)


def test_replace_spec_error_is_prefixed() -> None:
    bad = {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": ["zz"]}}}
    assert _one_error(_doc(), {"op": "replace_spec", "spec": bad}) == (
        "ops[0].spec.elements.a.children: references missing element 'zz'"
    )


def test_diamond_is_not_a_cycle() -> None:
    spec = {
        "root": "a",
        "elements": {
            "a": {"type": "T", "props": {}, "children": ["b", "c"]},
            "b": {"type": "T", "props": {}, "children": ["d"]},
            "c": {"type": "T", "props": {}, "children": ["d"]},
            "d": {"type": "T", "props": {}},
        },
    }
    assert validate_spec(spec)["elements"]["d"]["children"] == []


# --- theme -----------------------------------------------------------------------------


def test_set_theme_merges_and_regenerates_css() -> None:
    doc = _doc()
    assert _ok(doc, {"op": "set_theme", "theme": {"hue": 120, "font": "Inter"}}).changed is True
    expected = ThemeParams(hue=120, chroma=0.24, gray_chroma=0.01, radius=0.625, font="Inter")
    assert read_theme(doc) == {
        "hue": 120,
        "chroma": 0.24,
        "grayChroma": 0.01,
        "radius": 0.625,
        "font": "Inter",
    }
    assert read_theme_css(doc) == theme_css(expected)
    _ok(doc, {"op": "set_theme", "theme": {"font": None, "radius": 0}})
    assert read_theme(doc) == {"hue": 120, "chroma": 0.24, "grayChroma": 0.01, "radius": 0}
    assert "--font-sans" not in read_theme_css(doc)


def test_set_theme_same_values_is_a_no_op() -> None:
    doc = _doc()
    updates = _updates(doc)
    assert _ok(doc, {"op": "set_theme", "theme": {"hue": 264}}).changed is False
    assert updates == []


def test_set_theme_overwrites_custom_css() -> None:
    doc = _doc()
    _ok(doc, {"op": "set_theme_css", "css": ":root{}"}, {"op": "set_theme", "theme": {}})
    assert read_theme_css(doc) == theme_css(DEFAULT_THEME)


def test_set_theme_over_an_invalid_stored_theme_uses_defaults() -> None:
    doc = _doc()
    with doc.transaction():
        doc.get("theme", type=type(spec_map(doc)))["hue"] = "purple"
    _ok(doc, {"op": "set_theme", "theme": {"chroma": 0.1}})
    assert read_theme(doc) == {"hue": 264, "chroma": 0.1, "grayChroma": 0.01, "radius": 0.625}


def test_set_theme_errors() -> None:
    assert _one_error(_doc(), {"op": "set_theme", "theme": {"hue": 361}}) == (
        "ops[0].theme.hue: must be a number between 0 and 360"
    )
    assert _one_error(_doc(), {"op": "set_theme", "theme": {"grayChroma": True}}) == (
        "ops[0].theme.grayChroma: must be a number between 0 and 0.03"
    )
    assert _one_error(_doc(), {"op": "set_theme", "theme": "blue"}) == (
        "ops[0].theme: must be an object"
    )
    assert _one_error(_doc(), {"op": "set_theme"}) == "ops[0].theme: required object"


def test_set_theme_css() -> None:
    doc = _doc()
    assert _ok(doc, {"op": "set_theme_css", "css": ":root { --x: 1; }"}).changed is True
    assert read_theme_css(doc) == ":root { --x: 1; }"
    assert _ok(doc, {"op": "set_theme_css", "css": ":root { --x: 1; }"}).changed is False
    assert read_theme(doc) == DEFAULT_THEME.to_json()


def test_set_theme_css_limit_counts_utf8_bytes() -> None:
    doc = _doc()
    _ok(doc)  # nothing
    result = apply_ops(doc, [{"op": "set_theme_css", "css": "é" * 5}], max_css_bytes=10)
    assert result.errors == []
    assert read_theme_css(doc) == "é" * 5
    assert _one_error(doc, {"op": "set_theme_css", "css": "é" * 6}, max_css_bytes=10) == (
        "ops[0].css: must be at most 10 bytes of UTF-8, got 12"
    )
    assert DEFAULT_MAX_CSS_BYTES == 65536


def test_set_theme_css_errors() -> None:
    assert _one_error(_doc(), {"op": "set_theme_css", "css": 1}) == "ops[0].css: required string"
    assert _one_error(_doc(), {"op": "set_theme_css"}) == "ops[0].css: required string"
    assert _one_error(_doc(), {"op": "set_theme_css", "css": "\udc00"}) == (
        "ops[0].css: must be valid Unicode (no lone surrogates)"
    )


# --- op envelope -----------------------------------------------------------------------


def test_op_envelope_errors() -> None:
    doc = _doc()
    result = apply_ops(
        doc,
        [
            "set_root",
            {"root": "page"},
            {"op": 7},
            {"op": "frobnicate", "key": "x"},
            {"op": "remove_prop", "key": "email", "prop": "type", "extra": 1},
        ],
    )
    assert result == OpsResult(
        applied=0,
        changed=False,
        errors=[
            {"index": 0, "op": None, "error": "ops[0]: must be an object"},
            {"index": 1, "op": None, "error": "ops[1].op: required string"},
            {"index": 2, "op": None, "error": "ops[2].op: required string"},
            {
                "index": 3,
                "op": "frobnicate",
                "error": "ops[3].op: unknown op 'frobnicate' (expected one of add_element, "
                "remove_element, update_props, set_prop, remove_prop, reorder_children, "
                "set_root, replace_spec, set_theme, set_theme_css)",
            },
            {
                "index": 4,
                "op": "remove_prop",
                "error": "ops[4].extra: unknown field for remove_prop (allowed: key, prop)",
            },
        ],
    )
    assert [k.value for k in OpKind] == [
        "add_element",
        "remove_element",
        "update_props",
        "set_prop",
        "remove_prop",
        "reorder_children",
        "set_root",
        "replace_spec",
        "set_theme",
        "set_theme_css",
    ]


def test_empty_ops() -> None:
    doc = _doc()
    updates = _updates(doc)
    assert apply_ops(doc, []) == OpsResult(applied=0, errors=[], changed=False)
    assert updates == []


# --- transactionality ------------------------------------------------------------------


def test_one_call_is_one_update_and_replicas_agree() -> None:
    doc = _doc()
    replica: Doc[Any] = Doc()
    replica.apply_update(doc.get_update())
    updates = _updates(doc)
    result = apply_ops(
        doc,
        [
            {"op": "add_element", "key": "password", "parentKey": "form", "index": 1,
             "element": {"type": "Input", "props": {"type": "password"}}},
            {"op": "set_prop", "key": "submit", "prop": "children", "value": "Sign in"},
            {"op": "remove_element", "key": "ghost"},
            {"op": "update_props", "key": "page", "props": {"className": "p-8", "level": 2}},
            {"op": "remove_prop", "key": "submit", "prop": "size"},
            {"op": "reorder_children", "key": "page", "children": ["footer", "form"]},
            {"op": "remove_element", "key": "footer"},
            {"op": "set_theme", "theme": {"hue": 30}},
            {"op": "set_root", "root": "form"},
        ],
    )
    assert result.applied == 8
    assert result.changed is True
    assert result.errors == [
        {"index": 2, "op": "remove_element", "error": "ops[2].key: element 'ghost' does not exist"}
    ]
    assert len(updates) == 1
    replica.apply_update(updates[0])
    assert read_state(replica) == read_state(doc)
    assert read_state(doc)["spec"] == {
        "root": "form",
        "elements": {
            "page": {
                "type": "Card",
                "props": {"className": "p-8", "level": 2},
                "children": ["form"],
            },
            "form": {
                "type": "Form",
                "props": {},
                "children": ["email", "password", "submit", "shared"],
            },
            "email": {"type": "Input", "props": {"type": "email"}, "children": []},
            "password": {"type": "Input", "props": {"type": "password"}, "children": []},
            "submit": {"type": "Button", "props": {"children": "Sign in"}, "children": []},
            "shared": {"type": "Text", "props": {"children": "(c)"}, "children": []},
        },
    }
    assert read_theme(replica)["hue"] == 30
    assert type(read_state(replica)["spec"]["elements"]["page"]["props"]["level"]) is int


def test_invalid_op_is_never_half_applied() -> None:
    doc = _doc()
    result = apply_ops(
        doc,
        [
            # valid key and parent, but a child that does not exist: nothing may be written
            {"op": "add_element", "key": "row", "parentKey": "page",
             "element": {"type": "Row", "props": {}, "children": ["email", "ghost"]}},
            {"op": "update_props", "key": "email", "props": {"a": 1, "b": math.nan}},
        ],
    )
    assert result.applied == 0
    assert "row" not in _elements(doc)
    assert _children(doc)["page"] == ["form", "footer"]
    assert _elements(doc)["email"]["props"] == {"type": "email"}


def test_later_ops_see_earlier_ops() -> None:
    doc = _doc()
    _ok(
        doc,
        _add(key="box", parentKey="page", element={"type": "Box", "props": {}}),
        _add(key="inner", parentKey="box", element={"type": "T", "props": {}}),
        {"op": "remove_element", "key": "box"},
        {"op": "add_element", "key": "box", "parentKey": "form", "index": 0,
         "element": {"type": "Box2", "props": {}, "children": ["email"]}},
    )
    assert _children(doc)["form"] == ["box", "email", "submit", "shared"]
    assert _elements(doc)["box"]["type"] == "Box2"
    assert "inner" not in _elements(doc)


def test_apply_ops_joins_caller_transaction_and_tags_origin() -> None:
    doc = _doc()
    updates = _updates(doc)
    origins: list[object] = []
    spec = spec_map(doc)  # the subscription lives as long as this Map object
    spec.observe_deep(lambda events: origins.append(events[0].transaction.origin))
    with doc.transaction(origin="agent"):
        apply_ops(doc, [{"op": "set_root", "root": "form"}], origin="agent")
        write_theme_css(doc, "x")
    assert len(updates) == 1
    assert origins == ["agent"]
    apply_ops(doc, [{"op": "set_root", "root": "page"}], origin="rest")
    assert origins == ["agent", "rest"]


def test_max_ops() -> None:
    doc = _doc()
    ops: list[object] = [{"op": "set_root", "root": "page"}] * 3
    with pytest.raises(ValidationError) as info:
        apply_ops(doc, ops, max_ops=2)
    assert info.value.to_json() == {
        "error": "at most 2 operations per request, got 3",
        "field": "ops",
    }
    assert apply_ops(doc, ops, max_ops=3).applied == 3
    assert DEFAULT_MAX_OPS == 1000


# --- request body ----------------------------------------------------------------------


def test_validate_ops_request_ok() -> None:
    ops = [{"op": "set_root", "root": "a"}]
    assert validate_ops_request({"ops": ops, "agentId": "claude"}) == (ops, "claude")
    assert validate_ops_request({"ops": []}) == ([], None)
    assert validate_ops_request({"ops": [], "agentId": None}) == ([], None)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be a JSON object"),
        ({}, "ops", "required array"),
        ({"ops": {"op": "set_root"}}, "ops", "required array"),
        ({"ops": [], "agentId": 5}, "agentId", "must be a string"),
        ({"ops": [], "agentId": "a" * 201}, "agentId", "must be at most 200 characters"),
        ({"ops": [1, 2, 3]}, "ops", "at most 2 operations per request, got 3"),
    ],
)
def test_validate_ops_request_errors(body: object, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_ops_request(body, max_ops=2)
    assert (info.value.field, info.value.message) == (field, message)


def test_op_error_carries_message() -> None:
    err = OpError("ops[0].key: element 'x' does not exist")
    assert err.message == str(err) == "ops[0].key: element 'x' does not exist"


def test_ops_on_elements_with_peer_written_junk_children() -> None:
    doc = _doc()
    with doc.transaction():
        # a peer slipped a number into form's children: positions must still line up
        spec_map(doc)["elements"]["form"]["children"].insert(0, 42)
    assert _children(doc)["form"] == ["email", "submit", "shared"]
    _ok(
        doc,
        _add(key="first", index=0),
        _add(key="third", index=2),
        {"op": "remove_element", "key": "submit"},
    )
    assert _children(doc)["form"] == ["first", "email", "third", "shared"]
    assert list(spec_map(doc)["elements"]["form"]["children"]) == [
        "first",
        "email",
        "third",
        "shared",
    ]
