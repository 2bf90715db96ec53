"""The Bridge's request bodies and query parameters, decoded by value."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from actors.bridge.bodies import (
    AgentBody,
    CreateSessionBody,
    CreateVersionBody,
    OpsBody,
    PageQuery,
    PresenceBody,
    ThemePatch,
)
from actors.core.bodies import convert_body, convert_query
from actors.core.errors import ValidationError


def _refused(value: object, kind: type[msgspec.Struct]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        convert_body(value, kind)
    return info.value.field, info.value.message


def test_ops_body() -> None:
    ops: list[Any] = [{"op": "set_root", "root": "a"}, 7]  # each op is checked later, alone
    body = convert_body({"ops": ops, "agentId": "claude", "expectedRevision": 3}, OpsBody)
    assert (body.ops, body.agent_id, body.expected_revision) == (ops, "claude", 3)
    assert convert_body({"ops": [], "agentId": None}, OpsBody).agent_id is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be an object"),
        ({}, "ops", "required"),
        ({"ops": {"op": "set_root"}}, "ops", "must be an array"),
        ({"ops": [], "agentId": 5}, "agentId", "must be a string or null"),
        ({"ops": [], "agentId": ""}, "agentId", "must be at least 1 characters"),
        ({"ops": [], "agentId": "a" * 201}, "agentId", "must be at most 200 characters"),
        ({"ops": [], "expectedRevision": -1}, "expectedRevision", "must be >= 0"),
        ({"ops": [], "expectedRevision": 2**53}, "expectedRevision", "must be <= 9007199254740991"),
        ({"ops": [], "expectedRevision": True}, "expectedRevision", "must be an integer or null"),
        ({"ops": [], "agentID": "a"}, "agentID", "unknown field"),
    ],
)
def test_ops_body_refused(body: object, field: str, message: str) -> None:
    assert _refused(body, OpsBody) == (field, message)


def test_presence_body() -> None:
    raw = {"agentId": "a", "cursor": {"elementKey": "k", "offset": 3}, "name": "A"}
    body = convert_body(raw, PresenceBody)
    assert (body.agent_id, body.name, body.status) == ("a", "A", None)
    assert body.cursor is not None
    assert body.cursor.element_key == "k"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "agentId"),
        ({"agentId": ""}, "agentId"),
        ({"agentId": 1}, "agentId"),
        ({"agentId": "a", "name": 3}, "name"),
        ({"agentId": "a", "cursor": {}}, "cursor.elementKey"),
        ({"agentId": "a", "status": "x" * 201}, "status"),
        ([], "body"),
    ],
)
def test_presence_body_names_the_field(body: object, field: str) -> None:
    assert _refused(body, PresenceBody)[0] == field


def test_create_session_body_keeps_what_was_written() -> None:
    spec = {"root": "a", "elements": {"a": {"type": "Card", "props": {"n": 1}}}}
    body = convert_body({"name": None, "spec": spec, "theme": {"hue": 200, "font": None}}, CreateSessionBody)
    assert body.name is None
    # Absent stays absent and an int stays an int: the checks after decoding see the JSON sent.
    assert msgspec.to_builtins(body.spec) == spec
    assert msgspec.to_builtins(body.theme) == {"hue": 200, "font": None}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "x" * 201}, "name", "must be at most 200 characters"),
        ({"spec": {"root": "", "elements": {}, "extra": 1}}, "spec.extra", "unknown field"),
        ({"spec": {"elements": {}}}, "spec.root", "required"),
        ({"spec": {"root": "a", "elements": []}}, "spec.elements", "must be an object"),
        ({"theme": {"hue": 400}}, "theme.hue", "must be <= 360"),
        ({"theme": {"hue": True}}, "theme.hue", None),
        ({"theme": {"colour": "red"}}, "theme.colour", "unknown field"),
    ],
)
def test_create_session_body_refused(body: object, field: str, message: str | None) -> None:
    got_field, got_message = _refused(body, CreateSessionBody)
    assert got_field == field
    if message is not None:
        assert got_message == message


def test_theme_patch_null_font_is_kept_apart_from_no_font() -> None:
    assert msgspec.to_builtins(convert_body({"font": None}, ThemePatch)) == {"font": None}
    assert msgspec.to_builtins(convert_body({}, ThemePatch)) == {}


def test_version_and_agent_bodies() -> None:
    assert convert_body({"label": "v1", "agentId": "a"}, CreateVersionBody).label == "v1"
    assert convert_body({}, AgentBody).agent_id is None
    assert _refused({"agentId": ""}, AgentBody)[0] == "agentId"


def test_page_query() -> None:
    page = convert_query({"limit": "5", "offset": "2", "_": "cache"}, PageQuery)
    assert page == PageQuery(limit=5, offset=2)
    assert convert_query({}, PageQuery) == PageQuery(limit=None, offset=0)
    for raw in ("-1", "²", " 5", str(2**53)):
        with pytest.raises(ValidationError) as info:
            convert_query({"offset": raw}, PageQuery)
        assert info.value.field == "offset"
