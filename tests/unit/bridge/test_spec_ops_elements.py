from __future__ import annotations

import math
from typing import Any

import pytest
from pycrdt import Array

from actors.bridge.layout import (
    read_spec,
    spec_map,
)
from actors.bridge.spec_ops import (
    MAX_JSON_DEPTH,
)
from actors.core.values import MAX_SAFE_INTEGER

from ..spec_helpers import add_op, apply_ok, children_of, elements_of, make_doc, one_error, updates_of

# --- add_element -----------------------------------------------------------------------


def test_add_element_appends_by_default() -> None:
    doc = make_doc()
    result = apply_ok(
        doc,
        {
            "op": "add_element",
            "key": "password",
            "parentKey": "form",
            "element": {"type": "Input", "props": {"type": "password", "maxLength": 64}},
        },
    )
    assert result.changed is True
    assert elements_of(doc)["password"] == {
        "type": "Input",
        "props": {"type": "password", "maxLength": 64},
    }
    assert children_of(doc)["form"] == ["email", "submit", "shared", "password"]


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
    doc = make_doc()
    apply_ok(
        doc,
        {
            "op": "add_element",
            "key": "new",
            "parentKey": "form",
            "index": index,
            "element": {"type": "Separator", "props": {}},
        },
    )
    assert children_of(doc)["form"] == expected


def test_add_element_with_existing_children() -> None:
    doc = make_doc()
    apply_ok(
        doc,
        {
            "op": "add_element",
            "key": "row",
            "parentKey": "page",
            "element": {"type": "Row", "props": {}, "children": ["email", "submit"]},
        },
    )
    assert children_of(doc)["row"] == ["email", "submit"]
    assert children_of(doc)["page"] == ["form", "footer", "row"]


@pytest.mark.parametrize(
    ("op", "error"),
    [
        (add_op(key="email"), "ops[0].key: element 'email' already exists"),
        (add_op(key=""), "ops[0].key: required non-empty string"),
        (add_op(key=5), "ops[0].key: required non-empty string"),
        (add_op(parentKey="nope"), "ops[0].parentKey: element 'nope' does not exist"),
        (add_op(parentKey=None), "ops[0].parentKey: required non-empty string"),
        (
            add_op(index=4),
            "ops[0].index: must be between 0 and 3 (parent 'form' has 3 children)",
        ),
        (
            add_op(index=-1),
            "ops[0].index: must be between 0 and 3 (parent 'form' has 3 children)",
        ),
        (add_op(index=True), "ops[0].index: must be an integer"),
        (add_op(index=1.0), "ops[0].index: must be an integer"),
        (add_op(element="Text"), "ops[0].element: must be an object"),
        (add_op(element={"props": {}}), "ops[0].element.type: required non-empty string"),
        (add_op(element={"type": "", "props": {}}), "ops[0].element.type: required non-empty string"),
        (add_op(element={"type": "Text"}), "ops[0].element.props: required object"),
        (add_op(element={"type": "Text", "props": []}), "ops[0].element.props: required object"),
        (
            add_op(element={"type": "Text", "props": {}, "visible": True}),
            "ops[0].element.visible: unknown key (allowed: type, props, children)",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": "email"}),
            "ops[0].element.children: must be an array of element keys",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": ["email", ""]}),
            "ops[0].element.children[1]: required non-empty string",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": ["email", "email"]}),
            "ops[0].element.children: lists 'email' more than once",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": ["ghost"]}),
            "ops[0].element.children: element 'ghost' does not exist "
            "(children must reference existing elements; add them first)",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": ["page"]}),
            "ops[0].element.children: parentKey 'form' is a descendant of these children; "
            "adding the element would create a cycle",
        ),
        (
            add_op(element={"type": "Text", "props": {}, "children": ["form"]}),
            "ops[0].element.children: parentKey 'form' is a descendant of these children; "
            "adding the element would create a cycle",
        ),
        (
            add_op(element={"type": "Text", "props": {"n": math.nan}}),
            "ops[0].element.props.n: must be a finite number",
        ),
        (
            add_op(idx=1),
            "ops[0].idx: unknown field for add_element (allowed: key, element, parentKey, index)",
        ),
        ({"op": "add_element", "key": "x", "parentKey": "form"}, "ops[0].element: required object"),
    ],
)
def test_add_element_errors(op: dict[str, Any], error: str) -> None:
    assert one_error(make_doc(), op) == error


# --- remove_element --------------------------------------------------------------------


def test_remove_leaf() -> None:
    doc = make_doc()
    assert apply_ok(doc, {"op": "remove_element", "key": "email"}).changed is True
    assert "email" not in elements_of(doc)
    assert children_of(doc)["form"] == ["submit", "shared"]


def test_remove_subtree_keeps_children_still_referenced_elsewhere() -> None:
    doc = make_doc()
    apply_ok(doc, {"op": "remove_element", "key": "form"})
    assert children_of(doc) == {"page": ["footer"], "footer": ["shared"], "shared": []}


def test_remove_shared_child_removes_it_from_every_parent() -> None:
    doc = make_doc()
    apply_ok(doc, {"op": "remove_element", "key": "shared"})
    assert children_of(doc)["form"] == ["email", "submit"]
    assert children_of(doc)["footer"] == []
    assert "shared" not in elements_of(doc)


def test_remove_child_shared_only_within_the_removed_subtree() -> None:
    doc = make_doc()
    apply_ok(
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
    assert children_of(doc) == {"page": ["wrap"], "wrap": []}


def test_remove_handles_cycles_written_by_peers() -> None:
    doc = make_doc()
    with doc.transaction():
        # a browser made email and submit children of each other, and submit no longer
        # a child of form: the pair is only referenced from inside the cycle
        elements = spec_map(doc)["elements"]
        # (written without children, so the browser gives them the field)
        elements["email"]["children"] = Array(["submit"])
        elements["submit"]["children"] = Array(["email"])
        del elements["form"]["children"][1]
    apply_ok(doc, {"op": "remove_element", "key": "email"})
    assert children_of(doc) == {
        "page": ["form", "footer"],
        "form": ["shared"],
        "footer": ["shared"],
        "shared": [],
    }


def test_remove_keeps_cycle_member_referenced_from_outside() -> None:
    doc = make_doc()
    with doc.transaction():
        elements = spec_map(doc)["elements"]
        # (written without children, so the browser gives them the field)
        elements["email"]["children"] = Array(["submit"])
        elements["submit"]["children"] = Array(["email"])
    apply_ok(doc, {"op": "remove_element", "key": "email"})
    assert children_of(doc) == {
        "page": ["form", "footer"],
        "form": ["submit", "shared"],
        "footer": ["shared"],
        "submit": [],
        "shared": [],
    }


def test_remove_element_errors() -> None:
    assert (
        one_error(make_doc(), {"op": "remove_element", "key": "page"})
        == "ops[0].key: cannot remove the root element 'page' (set_root or replace_spec first)"
    )
    assert (
        one_error(make_doc(), {"op": "remove_element", "key": "ghost"})
        == "ops[0].key: element 'ghost' does not exist"
    )
    assert one_error(make_doc(), {"op": "remove_element"}) == "ops[0].key: required non-empty string"


# --- props -----------------------------------------------------------------------------


def test_update_props_is_a_shallow_merge() -> None:
    doc = make_doc()
    apply_ok(doc, {"op": "set_prop", "key": "email", "prop": "style", "value": {"a": 1, "b": 2}})
    apply_ok(
        doc,
        {
            "op": "update_props",
            "key": "email",
            "props": {"placeholder": "you@x.com", "style": {"a": 3}, "type": "text"},
        },
    )
    assert elements_of(doc)["email"]["props"] == {
        "type": "text",
        "placeholder": "you@x.com",
        "style": {"a": 3},
    }


def test_update_props_with_nothing_changes_nothing() -> None:
    doc = make_doc()
    updates = updates_of(doc)
    result = apply_ok(doc, {"op": "update_props", "key": "email", "props": {}})
    assert result.changed is False
    assert updates == []


def test_set_prop_values() -> None:
    doc = make_doc()
    apply_ok(
        doc,
        {"op": "set_prop", "key": "submit", "prop": "children", "value": "Welcome Back"},
        {"op": "set_prop", "key": "submit", "prop": "disabled", "value": None},
        {"op": "set_prop", "key": "submit", "prop": "size", "value": 3},
        {"op": "set_prop", "key": "submit", "prop": "list", "value": [1, 2.5, {"x": [True]}]},
        {"op": "set_prop", "key": "submit", "prop": "", "value": MAX_SAFE_INTEGER},
    )
    assert elements_of(doc)["submit"]["props"] == {
        "children": "Welcome Back",
        "disabled": None,
        "size": 3,
        "list": [1, 2.5, {"x": [True]}],
        "": MAX_SAFE_INTEGER,
    }


def test_remove_prop_and_missing_prop_is_a_no_op() -> None:
    doc = make_doc()
    assert apply_ok(doc, {"op": "remove_prop", "key": "submit", "prop": "size"}).changed is True
    assert elements_of(doc)["submit"]["props"] == {"children": "Submit"}
    updates = updates_of(doc)
    result = apply_ok(doc, {"op": "remove_prop", "key": "submit", "prop": "size"})
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
            "ops[0].value" + "[0]" * (MAX_JSON_DEPTH + 1) + f": nested deeper than {MAX_JSON_DEPTH} levels",
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
    assert one_error(make_doc(), op) == error


def test_json_depth_limit_is_inclusive() -> None:
    doc = make_doc()
    apply_ok(doc, {"op": "set_prop", "key": "email", "prop": "d", "value": _deep(MAX_JSON_DEPTH)})
    assert elements_of(doc)["email"]["props"]["d"] == _deep(MAX_JSON_DEPTH)


# --- reorder_children / set_root -------------------------------------------------------


def test_reorder_children() -> None:
    doc = make_doc()
    result = apply_ok(
        doc, {"op": "reorder_children", "key": "form", "children": ["shared", "email", "submit"]}
    )
    assert result.changed is True
    assert children_of(doc)["form"] == ["shared", "email", "submit"]


def test_reorder_to_same_order_is_a_no_op() -> None:
    doc = make_doc()
    updates = updates_of(doc)
    result = apply_ok(
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
    assert one_error(make_doc(), op) == error


def test_reorder_missing_element() -> None:
    assert (
        one_error(make_doc(), {"op": "reorder_children", "key": "ghost", "children": []})
        == "ops[0].key: element 'ghost' does not exist"
    )


def test_set_root() -> None:
    doc = make_doc()
    assert apply_ok(doc, {"op": "set_root", "root": "form"}).changed is True
    assert read_spec(doc)["root"] == "form"
    assert apply_ok(doc, {"op": "set_root", "root": "form"}).changed is False
    # the old root is now an ordinary element and can be removed
    apply_ok(doc, {"op": "remove_element", "key": "page"})
    assert sorted(elements_of(doc)) == ["email", "form", "shared", "submit"]


def test_set_root_errors() -> None:
    assert one_error(make_doc(), {"op": "set_root", "root": "ghost"}) == (
        "ops[0].root: element 'ghost' does not exist"
    )
    assert one_error(make_doc(), {"op": "set_root", "root": ""}) == ("ops[0].root: required non-empty string")
