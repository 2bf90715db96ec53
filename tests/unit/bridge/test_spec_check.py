"""Spec validation by value (actors.bridge.spec_check)."""

from __future__ import annotations

import math

import pytest

from actors.bridge.spec_check import validate_spec
from actors.core.errors import ValidationError

from ..spec_helpers import SPEC


def test_validate_spec_keeps_optional_fields_as_written() -> None:
    empty = validate_spec({"root": "", "elements": {}, "state": None})
    assert empty == {"root": "", "elements": {}}
    # written without children: none invented
    assert validate_spec(SPEC)["elements"]["email"] == {"type": "Input", "props": {"type": "email"}}
    spec = {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": []}}, "state": {}}
    assert validate_spec(spec) == spec
    nulls = {"root": "a", "elements": {"a": {"type": "T", "props": {}, "children": None}}}
    assert validate_spec(nulls) == {"root": "a", "elements": {"a": {"type": "T", "props": {}}}}


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
    assert validate_spec(spec)["elements"]["d"] == {"type": "T", "props": {}}
