"""The spec reads back as the client wrote it: optional fields stay absent (issue 11, item 7)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pycrdt import Array, Doc, Map

from actors.bridge.layout import init_session, read_spec, read_state, read_theme, spec_map
from actors.bridge.spec_ops import apply_ops, validate_spec
from actors.bridge.theme import DEFAULT_THEME, ThemeParams

# Two elements written without children, one with an empty list, one with children.
WRITTEN: dict[str, Any] = {
    "root": "page",
    "elements": {
        "page": {"type": "Card", "props": {"className": "p-6"}, "children": ["title", "list", "note"]},
        "title": {"type": "Heading", "props": {"level": 2, "children": "Hi"}},
        "list": {"type": "Stack", "props": {}, "children": []},
        "note": {"type": "Text", "props": {"children": "n"}},
    },
}


def _doc(spec: dict[str, Any] = WRITTEN, theme: ThemeParams = DEFAULT_THEME) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    init_session(doc, validate_spec(copy.deepcopy(spec)), theme, {"id": "s1"})
    return doc


def _ok(doc: Doc[Any], *ops: dict[str, Any]) -> None:
    result = apply_ops(doc, list(ops))
    assert result.errors == [], result.errors


def test_created_spec_reads_back_exactly() -> None:
    doc = _doc()
    assert read_spec(doc) == WRITTEN
    replica: Doc[Any] = Doc()
    replica.apply_update(doc.get_update())
    assert read_spec(replica) == WRITTEN


def test_add_element_without_children_stays_without() -> None:
    doc = _doc()
    _ok(
        doc,
        {"op": "add_element", "key": "btn", "parentKey": "list", "element": {"type": "Button", "props": {}}},
    )
    elements = read_spec(doc)["elements"]
    assert elements["btn"] == {"type": "Button", "props": {}}
    assert elements["list"]["children"] == ["btn"]


def test_a_childless_element_gains_children_with_its_first_child() -> None:
    doc = _doc()
    _ok(
        doc, {"op": "add_element", "key": "x", "parentKey": "title", "element": {"type": "Icon", "props": {}}}
    )
    assert read_spec(doc)["elements"]["title"] == {
        "type": "Heading",
        "props": {"level": 2, "children": "Hi"},
        "children": ["x"],
    }
    _ok(
        doc,
        {
            "op": "add_element",
            "key": "y",
            "parentKey": "title",
            "index": 0,
            "element": {"type": "Icon", "props": {}},
        },
    )
    assert read_spec(doc)["elements"]["title"]["children"] == ["y", "x"]


@pytest.mark.parametrize(
    "op",
    [
        {"op": "set_prop", "key": "note", "prop": "tone", "value": "muted"},
        {"op": "update_props", "key": "note", "props": {"size": 3}},
        {"op": "remove_prop", "key": "note", "prop": "children"},
        {"op": "reorder_children", "key": "note", "children": []},
        {"op": "set_root", "root": "note"},
        {"op": "set_theme", "theme": {"hue": 10}},
    ],
)
def test_other_ops_do_not_invent_children(op: dict[str, Any]) -> None:
    doc = _doc()
    _ok(doc, op)
    assert "children" not in read_spec(doc)["elements"]["note"]
    assert "children" not in read_spec(doc)["elements"]["title"]


def test_removing_the_last_child_keeps_the_field_the_client_gave() -> None:
    doc = _doc()
    _ok(doc, {"op": "remove_element", "key": "title"}, {"op": "remove_element", "key": "note"})
    _ok(doc, {"op": "remove_element", "key": "list"})
    assert read_spec(doc)["elements"] == {
        "page": {"type": "Card", "props": {"className": "p-6"}, "children": []}
    }


def test_replace_spec_keeps_absent_fields_absent() -> None:
    doc = _doc()
    spec = {
        "root": "a",
        "elements": {"a": {"type": "Text", "props": {}}, "b": {"type": "T", "props": {}, "children": []}},
    }
    _ok(doc, {"op": "replace_spec", "spec": spec})
    assert read_spec(doc) == spec
    # and ops after it in the same call see that "a" has no children
    _ok(doc, {"op": "add_element", "key": "c", "parentKey": "a", "element": {"type": "T", "props": {}}})
    assert read_spec(doc)["elements"]["a"]["children"] == ["c"]


@pytest.mark.parametrize("state", [None, {}, {"count": 1}])
def test_spec_state_only_when_written(state: dict[str, Any] | None) -> None:
    spec: dict[str, Any] = {"root": "", "elements": {}}
    if state is not None:
        spec["state"] = state
    assert read_spec(_doc(spec)) == spec


def test_theme_font_only_when_written() -> None:
    assert "font" not in read_theme(_doc())
    with_font = ThemeParams(hue=1, chroma=0.1, gray_chroma=0.01, radius=0.5, font="Inter")
    assert read_theme(_doc(theme=with_font))["font"] == "Inter"


def test_children_null_is_not_given() -> None:
    spec = {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": None}}}
    assert read_spec(_doc(spec)) == {"root": "a", "elements": {"a": {"type": "T", "props": {}}}}


def test_documents_written_before_keep_their_empty_children() -> None:
    """Old documents stored ``children: []`` for every element: they read back unchanged."""
    doc: Doc[Any] = Doc()
    with doc.transaction():
        spec = spec_map(doc)
        spec["root"] = "a"
        spec["elements"] = Map({"a": Map({"type": "T", "props": Map({}), "children": Array([])})})
    before = read_state(doc)
    assert before["spec"]["elements"]["a"] == {"type": "T", "props": {}, "children": []}
    _ok(doc, {"op": "set_prop", "key": "a", "prop": "p", "value": 1})
    assert read_spec(doc)["elements"]["a"] == {"type": "T", "props": {"p": 1}, "children": []}


def test_peer_written_null_children_read_as_absent_and_take_a_child() -> None:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        spec = spec_map(doc)
        spec["root"] = "a"
        spec["elements"] = Map(
            {
                "a": Map({"type": "T", "props": Map({}), "children": None}),
                "b": Map({"type": "T", "props": Map({})}),
            }
        )
    assert read_spec(doc)["elements"]["a"] == {"type": "T", "props": {}}
    _ok(doc, {"op": "add_element", "key": "c", "parentKey": "a", "element": {"type": "T", "props": {}}})
    assert read_spec(doc)["elements"]["a"]["children"] == ["c"]
