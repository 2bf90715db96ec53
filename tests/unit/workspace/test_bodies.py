"""The workspace's request bodies and query parameters, decoded by value."""

from __future__ import annotations

import msgspec
import pytest
from msgspec import UNSET

from actors.core.bodies import convert_body, convert_query, decode_body
from actors.core.errors import ValidationError
from actors.workspace.bodies import (
    HistoryQuery,
    NewProjectBody,
    NewSessionBody,
    PageQuery,
    ProjectPatchBody,
    ProjectStatus,
    RunBody,
    SessionStatus,
    SessionStatusBody,
    SessionTitleBody,
    SessionType,
)


def _refused(value: object, kind: type[msgspec.Struct]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        convert_body(value, kind)
    return info.value


def test_the_documented_vocabularies() -> None:
    assert [t.value for t in SessionType] == [
        "PRECHECK",
        "T661",
        "T661_GEN",
        "T661_DRAFT",
        "T661_ANALYSIS",
        "LOGBOOK",
    ]
    assert [s.value for s in ProjectStatus] == ["ACTIVE", "ARCHIVED", "CLOSED"]
    assert [s.value for s in SessionStatus] == ["ACTIVE", "COMPLETED", "ARCHIVED"]


# --- projects -----------------------------------------------------------------------------


def test_new_project() -> None:
    body = convert_body({"name": "Widget R&D", "fiscalYear": "2025", "description": "AI"}, NewProjectBody)
    assert (body.name, body.fiscal_year, body.description) == ("Widget R&D", "2025", "AI")
    assert convert_body({"name": "W", "fiscalYear": 2024}, NewProjectBody).fiscal_year == 2024
    cleared = convert_body({"name": "W", "fiscalYear": "2024", "description": None}, NewProjectBody)
    assert cleared.description is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be an object"),
        ({"fiscalYear": "2025"}, "name", "required"),
        ({"name": "", "fiscalYear": "2025"}, "name", "must be at least 1 characters"),
        ({"name": 5, "fiscalYear": "2025"}, "name", "must be a string"),
        ({"name": "x" * 201, "fiscalYear": "2025"}, "name", "must be at most 200 characters"),
        ({"name": "W"}, "fiscalYear", "required"),
        ({"name": "W", "fiscalYear": "FY25"}, "fiscalYear", "must match ^[12][0-9]{3}$"),
        ({"name": "W", "fiscalYear": " 2025"}, "fiscalYear", "must match ^[12][0-9]{3}$"),
        ({"name": "W", "fiscalYear": 999}, "fiscalYear", "must be >= 1000"),
        ({"name": "W", "fiscalYear": True}, "fiscalYear", "must be an integer or a string"),
        (
            {"name": "W", "fiscalYear": "2025", "description": "d" * 10_001},
            "description",
            "must be at most 10000 characters",
        ),
        ({"name": "W", "fiscalYear": "2025", "status": "ACTIVE"}, "status", "unknown field"),
    ],
)
def test_new_project_refusals(body: object, field: str, message: str) -> None:
    error = _refused(body, NewProjectBody)
    assert (error.field, error.message) == (field, message)


def test_project_patch_is_partial() -> None:
    body = convert_body({"status": "ARCHIVED"}, ProjectPatchBody)
    assert body.status is ProjectStatus.ARCHIVED
    assert (body.name, body.fiscal_year, body.description) == (UNSET, UNSET, UNSET)
    assert convert_body({"description": None}, ProjectPatchBody).description is None
    assert convert_body({}, ProjectPatchBody) == ProjectPatchBody()  # refused after decoding


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "DELETED"}, "status"),
        ({"status": "archived"}, "status"),
        ({"status": None}, "status"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"fiscalYear": None}, "fiscalYear"),
        ({"owner": "bob"}, "owner"),
    ],
)
def test_project_patch_refusals(body: object, field: str) -> None:
    assert _refused(body, ProjectPatchBody).field == field


def test_an_unknown_value_lists_the_choices() -> None:
    error = _refused({"status": "X"}, ProjectPatchBody)
    assert error.message == "unknown value 'X' (one of ACTIVE, ARCHIVED, CLOSED)"


# --- sessions -----------------------------------------------------------------------------


def test_new_session() -> None:
    assert convert_body({"type": "PRECHECK"}, NewSessionBody) == NewSessionBody(type=SessionType.PRECHECK)
    assert convert_body({"type": "LOGBOOK", "title": " Week 1 "}, NewSessionBody).title == " Week 1 "
    assert _refused({"type": "T662"}, NewSessionBody).field == "type"
    assert _refused({}, NewSessionBody).field == "type"
    assert _refused({"type": "T661", "title": "x" * 201}, NewSessionBody).field == "title"
    assert _refused({"type": "T661", "name": "x"}, NewSessionBody).field == "name"


def test_session_status_and_title() -> None:
    assert convert_body({"status": "COMPLETED"}, SessionStatusBody).status is SessionStatus.COMPLETED
    done = _refused({"status": "DONE"}, SessionStatusBody)
    assert done.field == "status"
    assert done.message == "unknown value 'DONE' (one of ACTIVE, COMPLETED, ARCHIVED)"
    assert _refused({}, SessionStatusBody).field == "status"
    assert convert_body({"title": " Renamed "}, SessionTitleBody).title == " Renamed "
    assert _refused({"title": ""}, SessionTitleBody).field == "title"
    assert _refused({"title": None}, SessionTitleBody).field == "title"
    assert _refused({"title": "x" * 201}, SessionTitleBody).field == "title"


# --- runs ---------------------------------------------------------------------------------


def test_run_body_keeps_the_spec_field_names() -> None:
    body = decode_body(
        b'{"type": "T661_GEN", "input": "  keep my spaces\\n", '
        b'"selected_file_ids": ["f-1", "f_2"], "history_limit": 99}',
        RunBody,
    )
    assert body == RunBody(
        type=SessionType.T661_GEN,
        input="  keep my spaces\n",
        selected_file_ids=["f-1", "f_2"],
        history_limit=99,
    )
    assert msgspec.to_builtins(body)["selected_file_ids"] == ["f-1", "f_2"]
    minimal = convert_body({"type": "T661", "input": "x", "selected_file_ids": None}, RunBody)
    assert (minimal.selected_file_ids, minimal.history_limit) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": "x"}, "type"),
        ({"type": "T661"}, "input"),
        ({"type": "T661", "input": ""}, "input"),
        ({"type": "T661", "input": "x", "selected_file_ids": "f1"}, "selected_file_ids"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["f1", 2]}, "selected_file_ids[1]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["f1", ""]}, "selected_file_ids[1]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["../etc"]}, "selected_file_ids[0]"),
        ({"type": "T661", "input": "x", "history_limit": "10"}, "history_limit"),
        ({"type": "T661", "input": "x", "history_limit": True}, "history_limit"),
        ({"type": "T661", "input": "x", "history_limit": 2.5}, "history_limit"),
        ({"type": "T661", "input": "x", "history_limit": 2**64}, "history_limit"),
        ({"type": "T661", "input": "x", "selectedFileIds": ["f1"]}, "selectedFileIds"),
    ],
)
def test_run_body_refusals(body: object, field: str) -> None:
    assert _refused(body, RunBody).field == field


# --- query parameters ---------------------------------------------------------------------


def test_page_query() -> None:
    assert convert_query({}, PageQuery) == PageQuery(limit=None, offset=0)
    page = convert_query({"limit": "20", "offset": "40", "_": "cache"}, PageQuery)
    assert page == PageQuery(limit=20, offset=40)
    assert convert_query({"offset": str(2**53 - 1)}, PageQuery).offset == 2**53 - 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": str(2**53)}, "offset"),
        ({"offset": str(2**64)}, "offset"),
        ({"offset": "\u00b2"}, "offset"),
    ],
)
def test_page_query_refusals(query: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        convert_query(query, PageQuery)
    assert info.value.field == field


def test_history_query_takes_any_integer_to_clamp() -> None:
    assert convert_query({}, HistoryQuery).limit is None
    assert convert_query({"limit": "500"}, HistoryQuery).limit == 500
    assert convert_query({"limit": "-1"}, HistoryQuery).limit == -1
    for raw in ("ten", "1.5", "0x10", "\u0663", "9" * 30):
        with pytest.raises(ValidationError) as info:
            convert_query({"limit": raw}, HistoryQuery)
        assert info.value.field == "limit"
