from __future__ import annotations

import math
from typing import Any

from pycrdt import Array, Doc, Map, Text

from actors.bridge.layout import (
    element_map,
    empty_spec,
    init_session,
    read_meta,
    read_spec,
    read_state,
    read_structure,
    read_theme,
    read_theme_css,
    spec_map,
    write_meta,
    write_root,
    write_spec,
    write_theme,
    write_theme_css,
)
from actors.bridge.theme import DEFAULT_THEME, ThemeParams, theme_css
from actors.core.values import MAX_SAFE_INTEGER, normalize_json

from ..doc_helpers import replica_of, updates_of

LOGIN_SPEC: dict[str, Any] = {
    "root": "container",
    "elements": {
        "container": {"type": "Card", "props": {"className": "p-6"}, "children": ["heading"]},
        "heading": {"type": "Heading", "props": {"level": 2, "children": "Login"}},
    },
}

META = {
    "id": "a1b2c3d4",
    "name": "Login Page",
    "description": "A login form",
    "revision": 0,
    "createdAt": "2026-03-25T10:00:00.000Z",
    "updatedAt": "2026-03-25T10:00:00.000Z",
}


def test_fresh_doc_reads_empty_defaults() -> None:
    doc: Doc[Any] = Doc()
    assert read_spec(doc) == {"root": "", "elements": {}}
    assert read_spec(doc) == empty_spec()
    assert read_state(doc) == {
        "spec": {"root": "", "elements": {}},
        "theme": {},
        "themeCSS": "",
        "meta": {},
    }


def test_empty_spec_is_a_fresh_dict() -> None:
    first = empty_spec()
    first["elements"]["x"] = 1
    assert empty_spec() == {"root": "", "elements": {}}


def test_spec_round_trip_keeps_absent_children_absent_and_ints() -> None:
    doc: Doc[Any] = Doc()
    write_spec(doc, LOGIN_SPEC)
    spec = read_spec(doc)
    assert spec == {
        "root": "container",
        "elements": {
            "container": {
                "type": "Card",
                "props": {"className": "p-6"},
                "children": ["heading"],
            },
            # written without children: read back without them (issue 11, item 7)
            "heading": {
                "type": "Heading",
                "props": {"level": 2, "children": "Login"},
            },
        },
    }
    assert type(spec["elements"]["heading"]["props"]["level"]) is int
    assert "state" not in spec


def test_stored_layout_uses_nested_y_types() -> None:
    doc: Doc[Any] = Doc()
    init_session(doc, LOGIN_SPEC, DEFAULT_THEME, META)
    spec = doc.get("spec", type=Map)
    assert spec["root"] == "container"
    elements = spec["elements"]
    assert isinstance(elements, Map)
    card = elements["container"]
    assert isinstance(card, Map)
    assert card["type"] == "Card"
    assert isinstance(card["props"], Map)
    assert isinstance(card["children"], Array)
    assert list(card["children"]) == ["heading"]
    assert isinstance(doc.get("themeCSS", type=Text), Text)
    assert sorted(doc.get("theme", type=Map).keys()) == ["chroma", "grayChroma", "hue", "radius"]
    assert sorted(doc.get("meta", type=Map).keys()) == sorted(META)


def test_numbers_read_back_as_json_shows_them() -> None:
    doc: Doc[Any] = Doc()
    props = {
        "int": 2,
        "float_integral": 2.0,
        "float": 2.5,
        "negative": -7,
        "zero": -0.0,
        "max_safe": MAX_SAFE_INTEGER,
        "big_float": 1e20,
        "nested": {"a": [1, 2.0, 3.25, {"b": 4}], "t": True, "n": None},
    }
    write_spec(doc, {"root": "x", "elements": {"x": {"type": "T", "props": props, "children": []}}})
    got = read_spec(doc)["elements"]["x"]["props"]
    assert got == {
        "int": 2,
        "float_integral": 2,
        "float": 2.5,
        "negative": -7,
        "zero": 0,
        "max_safe": MAX_SAFE_INTEGER,
        "big_float": 1e20,
        "nested": {"a": [1, 2, 3.25, {"b": 4}], "t": True, "n": None},
    }
    assert [type(got[k]) for k in ("int", "float_integral", "float", "zero", "big_float")] == [
        int,
        int,
        float,
        int,
        float,
    ]
    assert type(got["nested"]["a"][0]) is int
    assert got["nested"]["t"] is True


def test_normalize_json_values() -> None:
    assert normalize_json(3.0) == 3
    assert type(normalize_json(3.0)) is int
    assert normalize_json(float(MAX_SAFE_INTEGER + 1)) == float(MAX_SAFE_INTEGER + 1)
    assert type(normalize_json(float(MAX_SAFE_INTEGER + 1))) is float
    assert math.isnan(normalize_json(math.nan))
    assert normalize_json(math.inf) == math.inf
    assert normalize_json((1.0, "a")) == [1, "a"]
    assert normalize_json({"b": 1.0, "a": [2.0]}) == {"a": [2], "b": 1}
    assert normalize_json(b"x") == "b'x'"


def test_write_spec_replaces_everything_including_state() -> None:
    doc: Doc[Any] = Doc()
    write_spec(doc, {**LOGIN_SPEC, "state": {"email": "", "count": 1}})
    assert read_spec(doc)["state"] == {"email": "", "count": 1}
    write_spec(
        doc,
        {"root": "a", "elements": {"a": {"type": "Text", "props": {"text": "hi"}}}},
    )
    assert read_spec(doc) == {
        "root": "a",
        "elements": {"a": {"type": "Text", "props": {"text": "hi"}}},
    }
    write_spec(doc, {"root": "", "elements": {}, "state": {}})
    assert read_spec(doc) == {"root": "", "elements": {}, "state": {}}


def test_write_spec_drops_unknown_top_level_keys() -> None:
    doc: Doc[Any] = Doc()
    spec_map(doc)["junk"] = 1
    write_spec(doc, LOGIN_SPEC)
    assert sorted(spec_map(doc).keys()) == ["elements", "root"]


def test_write_root_and_read_structure() -> None:
    doc: Doc[Any] = Doc()
    write_spec(doc, LOGIN_SPEC)
    write_root(doc, "heading")
    assert read_structure(doc) == ("heading", {"container": ["heading"], "heading": []})


def test_theme_round_trip_and_font_removal() -> None:
    doc: Doc[Any] = Doc()
    write_theme(doc, ThemeParams(hue=100, chroma=0.2, gray_chroma=0.02, radius=1, font="Inter"))
    assert read_theme(doc) == {
        "hue": 100,
        "chroma": 0.2,
        "grayChroma": 0.02,
        "radius": 1,
        "font": "Inter",
    }
    assert type(read_theme(doc)["radius"]) is int
    write_theme(doc, DEFAULT_THEME)
    assert read_theme(doc) == {"hue": 264, "chroma": 0.24, "grayChroma": 0.01, "radius": 0.625}


def test_theme_css_round_trip_and_identical_write_is_silent() -> None:
    doc: Doc[Any] = Doc()
    write_theme_css(doc, ":root { --a: 1; }")
    assert read_theme_css(doc) == ":root { --a: 1; }"
    updates = updates_of(doc)
    write_theme_css(doc, ":root { --a: 1; }")
    assert updates == []
    write_theme_css(doc, "b")
    assert read_theme_css(doc) == "b"
    assert len(updates) == 1


def test_write_meta_merges() -> None:
    doc: Doc[Any] = Doc()
    write_meta(doc, META)
    write_meta(doc, {"revision": 6, "updatedAt": "2026-03-25T10:05:00.000Z"})
    assert read_meta(doc) == {
        **META,
        "revision": 6,
        "updatedAt": "2026-03-25T10:05:00.000Z",
    }
    assert type(read_meta(doc)["revision"]) is int


def test_init_session_is_one_update_and_replicates() -> None:
    doc: Doc[Any] = Doc()
    updates = updates_of(doc)
    init_session(doc, LOGIN_SPEC, DEFAULT_THEME, META)
    assert len(updates) == 1
    expected = {
        "spec": read_spec(doc),
        "theme": {"hue": 264, "chroma": 0.24, "grayChroma": 0.01, "radius": 0.625},
        "themeCSS": theme_css(DEFAULT_THEME),
        "meta": META,
    }
    assert read_state(doc) == expected
    other: Doc[Any] = Doc()
    other.apply_update(updates[0])
    assert read_state(other) == expected


def test_writers_join_an_outer_transaction() -> None:
    doc: Doc[Any] = Doc()
    updates = updates_of(doc)
    with doc.transaction(origin="test"):
        write_spec(doc, LOGIN_SPEC)
        write_theme(doc, DEFAULT_THEME)
        write_theme_css(doc, "css")
        write_meta(doc, {"revision": 1})
        write_root(doc, "heading")
    assert len(updates) == 1
    assert read_state(replica_of(doc))["spec"]["root"] == "heading"


def test_tolerates_peer_written_plain_json_elements() -> None:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        spec = spec_map(doc)
        spec["root"] = "a"
        # what a careless browser could write: plain JSON instead of nested Y types,
        # missing fields, a non-string child, a junk element
        spec["elements"] = Map(
            {
                "a": {"type": "Card", "props": {"n": 1}, "children": ["b", 3]},
                "b": Map({"type": "Text"}),
                "c": 42,
            }
        )
    assert read_spec(doc) == {
        "root": "a",
        "elements": {
            "a": {"type": "Card", "props": {"n": 1}, "children": ["b"]},
            "b": {"type": "Text", "props": {}},
            "c": {"type": "", "props": {}},
        },
    }
    assert read_structure(doc) == ("a", {"a": ["b"], "b": [], "c": []})


def test_element_map_repairs_to_canonical_form() -> None:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        spec = spec_map(doc)
        spec["root"] = "a"
        spec["elements"] = {"a": {"type": "Card", "props": {"n": 1}, "children": ["b"]}}
    assert read_spec(doc)["elements"]["a"] == {
        "type": "Card",
        "props": {"n": 1},
        "children": ["b"],
    }
    repaired = element_map(doc, "a")
    assert repaired is not None
    assert isinstance(spec_map(doc)["elements"], Map)
    assert isinstance(repaired["props"], Map)
    assert isinstance(repaired["children"], Array)
    assert read_spec(doc)["elements"]["a"] == {
        "type": "Card",
        "props": {"n": 1},
        "children": ["b"],
    }
    assert element_map(doc, "missing") is None


def test_element_map_repairs_partial_y_map() -> None:
    doc: Doc[Any] = Doc()
    write_spec(doc, LOGIN_SPEC)
    with doc.transaction():
        heading = spec_map(doc)["elements"]["heading"]
        heading["props"] = {"level": 3}
        heading["type"] = 7
    repaired = element_map(doc, "heading")
    assert repaired is not None
    assert repaired["type"] == ""
    assert isinstance(repaired["props"], Map)
    assert repaired["props"].to_py() == {"level": 3.0}
    # children is optional: a repair does not invent it
    assert "children" not in repaired
