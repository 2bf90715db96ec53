from __future__ import annotations

import math
from typing import Any

import pytest
from pycrdt import Doc

from actors.bridge.layout import (
    read_spec,
    read_state,
    read_theme,
    read_theme_css,
    spec_map,
    write_theme_css,
)
from actors.bridge.spec_ops import (
    DEFAULT_MAX_CSS_BYTES,
    DEFAULT_MAX_OPS,
    OpKind,
    OpsResult,
    apply_ops,
)
from actors.bridge.theme import DEFAULT_THEME, ThemeParams, theme_css
from actors.core.errors import OpError, ValidationError

from ..spec_helpers import add_op, apply_ok, children_of, elements_of, make_doc, one_error, updates_of

# --- replace_spec / validate_spec -----------------------------------------------------


def test_replace_spec() -> None:
    doc = make_doc()
    new = {
        "root": "a",
        "elements": {
            "a": {"type": "Stack", "props": {"gap": 4}, "children": ["b"]},
            "b": {"type": "Text", "props": {}},
        },
        "state": {"count": 0},
    }
    assert apply_ok(doc, {"op": "replace_spec", "spec": new}).changed is True
    assert read_spec(doc) == {
        "root": "a",
        "elements": {
            "a": {"type": "Stack", "props": {"gap": 4}, "children": ["b"]},
            "b": {"type": "Text", "props": {}},
        },
        "state": {"count": 0},
    }
    # later ops in the same call see the replaced tree
    apply_ok(doc, {"op": "replace_spec", "spec": {"root": "", "elements": {}}})
    assert read_spec(doc) == {"root": "", "elements": {}}


def test_ops_after_replace_spec_see_new_tree() -> None:
    doc = make_doc()
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
    assert children_of(doc) == {"a": ["email"], "email": []}


def test_replace_spec_error_is_prefixed() -> None:
    bad = {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": ["zz"]}}}
    assert one_error(make_doc(), {"op": "replace_spec", "spec": bad}) == (
        "ops[0].spec.elements.a.children: references missing element 'zz'"
    )


# --- theme -----------------------------------------------------------------------------


def test_set_theme_merges_and_regenerates_css() -> None:
    doc = make_doc()
    assert apply_ok(doc, {"op": "set_theme", "theme": {"hue": 120, "font": "Inter"}}).changed is True
    expected = ThemeParams(hue=120, chroma=0.24, gray_chroma=0.01, radius=0.625, font="Inter")
    assert read_theme(doc) == {
        "hue": 120,
        "chroma": 0.24,
        "grayChroma": 0.01,
        "radius": 0.625,
        "font": "Inter",
    }
    assert read_theme_css(doc) == theme_css(expected)
    apply_ok(doc, {"op": "set_theme", "theme": {"font": None, "radius": 0}})
    assert read_theme(doc) == {"hue": 120, "chroma": 0.24, "grayChroma": 0.01, "radius": 0}
    assert "--font-sans" not in read_theme_css(doc)


def test_set_theme_same_values_is_a_no_op() -> None:
    doc = make_doc()
    updates = updates_of(doc)
    assert apply_ok(doc, {"op": "set_theme", "theme": {"hue": 264}}).changed is False
    assert updates == []


def test_set_theme_overwrites_custom_css() -> None:
    doc = make_doc()
    apply_ok(doc, {"op": "set_theme_css", "css": ":root{}"}, {"op": "set_theme", "theme": {}})
    assert read_theme_css(doc) == theme_css(DEFAULT_THEME)


def test_set_theme_over_an_invalid_stored_theme_uses_defaults() -> None:
    doc = make_doc()
    with doc.transaction():
        doc.get("theme", type=type(spec_map(doc)))["hue"] = "purple"
    apply_ok(doc, {"op": "set_theme", "theme": {"chroma": 0.1}})
    assert read_theme(doc) == {"hue": 264, "chroma": 0.1, "grayChroma": 0.01, "radius": 0.625}


def test_set_theme_errors() -> None:
    assert one_error(make_doc(), {"op": "set_theme", "theme": {"hue": 361}}) == (
        "ops[0].theme.hue: must be a number between 0 and 360"
    )
    assert one_error(make_doc(), {"op": "set_theme", "theme": {"grayChroma": True}}) == (
        "ops[0].theme.grayChroma: must be a number between 0 and 0.03"
    )
    assert one_error(make_doc(), {"op": "set_theme", "theme": "blue"}) == ("ops[0].theme: must be an object")
    assert one_error(make_doc(), {"op": "set_theme"}) == "ops[0].theme: required object"


def test_set_theme_css() -> None:
    doc = make_doc()
    assert apply_ok(doc, {"op": "set_theme_css", "css": ":root { --x: 1; }"}).changed is True
    assert read_theme_css(doc) == ":root { --x: 1; }"
    assert apply_ok(doc, {"op": "set_theme_css", "css": ":root { --x: 1; }"}).changed is False
    assert read_theme(doc) == DEFAULT_THEME.to_json()


def test_set_theme_css_limit_counts_utf8_bytes() -> None:
    doc = make_doc()
    apply_ok(doc)  # nothing
    result = apply_ops(doc, [{"op": "set_theme_css", "css": "é" * 5}], max_css_bytes=10)
    assert result.errors == []
    assert read_theme_css(doc) == "é" * 5
    assert one_error(doc, {"op": "set_theme_css", "css": "é" * 6}, max_css_bytes=10) == (
        "ops[0].css: must be at most 10 bytes of UTF-8, got 12"
    )
    assert DEFAULT_MAX_CSS_BYTES == 65536


def test_set_theme_css_errors() -> None:
    assert one_error(make_doc(), {"op": "set_theme_css", "css": 1}) == "ops[0].css: required string"
    assert one_error(make_doc(), {"op": "set_theme_css"}) == "ops[0].css: required string"
    assert one_error(make_doc(), {"op": "set_theme_css", "css": "\udc00"}) == (
        "ops[0].css: must be valid Unicode (no lone surrogates)"
    )


# --- op envelope -----------------------------------------------------------------------


def test_op_envelope_errors() -> None:
    doc = make_doc()
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
    doc = make_doc()
    updates = updates_of(doc)
    assert apply_ops(doc, []) == OpsResult(applied=0, errors=[], changed=False)
    assert updates == []


# --- transactionality ------------------------------------------------------------------


def test_one_call_is_one_update_and_replicas_agree() -> None:
    doc = make_doc()
    replica: Doc[Any] = Doc()
    replica.apply_update(doc.get_update())
    updates = updates_of(doc)
    result = apply_ops(
        doc,
        [
            {
                "op": "add_element",
                "key": "password",
                "parentKey": "form",
                "index": 1,
                "element": {"type": "Input", "props": {"type": "password"}},
            },
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
            "email": {"type": "Input", "props": {"type": "email"}},
            "password": {"type": "Input", "props": {"type": "password"}},
            "submit": {"type": "Button", "props": {"children": "Sign in"}},
            "shared": {"type": "Text", "props": {"children": "(c)"}},
        },
    }
    assert read_theme(replica)["hue"] == 30
    assert type(read_state(replica)["spec"]["elements"]["page"]["props"]["level"]) is int


def test_invalid_op_is_never_half_applied() -> None:
    doc = make_doc()
    result = apply_ops(
        doc,
        [
            # valid key and parent, but a child that does not exist: nothing may be written
            {
                "op": "add_element",
                "key": "row",
                "parentKey": "page",
                "element": {"type": "Row", "props": {}, "children": ["email", "ghost"]},
            },
            {"op": "update_props", "key": "email", "props": {"a": 1, "b": math.nan}},
        ],
    )
    assert result.applied == 0
    assert "row" not in elements_of(doc)
    assert children_of(doc)["page"] == ["form", "footer"]
    assert elements_of(doc)["email"]["props"] == {"type": "email"}


def test_later_ops_see_earlier_ops() -> None:
    doc = make_doc()
    apply_ok(
        doc,
        add_op(key="box", parentKey="page", element={"type": "Box", "props": {}}),
        add_op(key="inner", parentKey="box", element={"type": "T", "props": {}}),
        {"op": "remove_element", "key": "box"},
        {
            "op": "add_element",
            "key": "box",
            "parentKey": "form",
            "index": 0,
            "element": {"type": "Box2", "props": {}, "children": ["email"]},
        },
    )
    assert children_of(doc)["form"] == ["box", "email", "submit", "shared"]
    assert elements_of(doc)["box"]["type"] == "Box2"
    assert "inner" not in elements_of(doc)


def test_apply_ops_joins_caller_transaction_and_tags_origin() -> None:
    doc = make_doc()
    updates = updates_of(doc)
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
    doc = make_doc()
    ops: list[object] = [{"op": "set_root", "root": "page"}] * 3
    with pytest.raises(ValidationError) as info:
        apply_ops(doc, ops, max_ops=2)
    assert info.value.to_json() == {
        "error": "at most 2 operations per request, got 3",
        "field": "ops",
    }
    assert apply_ops(doc, ops, max_ops=3).applied == 3
    assert DEFAULT_MAX_OPS == 1000


def test_op_error_carries_message() -> None:
    err = OpError("ops[0].key: element 'x' does not exist")
    assert err.message == str(err) == "ops[0].key: element 'x' does not exist"


def test_ops_on_elements_with_peer_written_junk_children() -> None:
    doc = make_doc()
    with doc.transaction():
        # a peer slipped a number into form's children: positions must still line up
        spec_map(doc)["elements"]["form"]["children"].insert(0, 42)
    assert children_of(doc)["form"] == ["email", "submit", "shared"]
    apply_ok(
        doc,
        add_op(key="first", index=0),
        add_op(key="third", index=2),
        {"op": "remove_element", "key": "submit"},
    )
    assert children_of(doc)["form"] == ["first", "email", "third", "shared"]
    assert list(spec_map(doc)["elements"]["form"]["children"]) == [
        "first",
        "email",
        "third",
        "shared",
    ]
