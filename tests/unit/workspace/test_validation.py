"""Project, session and run bodies checked by value; the strict file selection."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.workspace.validation import (
    FileSelectionError,
    NewProject,
    NewSession,
    ProjectPatch,
    ProjectStatus,
    RequestLimits,
    RunRequest,
    SessionStatus,
    SessionType,
    check_file_selection,
    parse_new_project,
    parse_new_session,
    parse_project_patch,
    parse_run_request,
    parse_session_status,
    parse_session_title,
)

from .samples import FileRow

SMALL = RequestLimits(
    max_name_chars=10, max_description_chars=20, max_title_chars=8, max_input_chars=30, max_selected_files=2
)


def refused(parse: Any, body: object, *args: Any) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        parse(body, *args)
    return error.value


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
    assert parse_new_project(
        {"name": " Widget R&D ", "fiscalYear": "2025", "description": "AI"}
    ) == NewProject("Widget R&D", "2025", "AI")
    assert parse_new_project({"name": "W", "fiscalYear": 2024}) == NewProject("W", "2024", "")
    assert parse_new_project({"name": "W", "fiscalYear": "2024", "description": None}).description == ""


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be a JSON object"),
        ({"fiscalYear": "2025"}, "name", "required"),
        ({"name": "  ", "fiscalYear": "2025"}, "name", "must not be empty"),
        ({"name": 5, "fiscalYear": "2025"}, "name", "must be a string"),
        ({"name": "x" * 11, "fiscalYear": "2025"}, "name", "at most 10 characters"),
        ({"name": "a\x00b", "fiscalYear": "2025"}, "name", "NUL"),
        ({"name": "a\ud800", "fiscalYear": "2025"}, "name", "lone surrogates"),
        ({"name": "W"}, "fiscalYear", "four-digit year"),
        ({"name": "W", "fiscalYear": "FY25"}, "fiscalYear", "four-digit year"),
        ({"name": "W", "fiscalYear": True}, "fiscalYear", "four-digit year"),
        ({"name": "W", "fiscalYear": "2025", "description": "d" * 21}, "description", "at most 20"),
        ({"name": "W", "fiscalYear": "2025", "status": "ACTIVE"}, "status", "unknown key"),
    ],
)
def test_new_project_refusals(body: object, field: str, message: str) -> None:
    error = refused(parse_new_project, body, SMALL)
    assert error.field == field
    assert message in error.message


def test_project_patch_is_partial() -> None:
    assert parse_project_patch({"status": "ARCHIVED"}) == ProjectPatch(status=ProjectStatus.ARCHIVED)
    assert parse_project_patch({"name": "New", "fiscalYear": 2026}) == ProjectPatch(
        name="New", fiscal_year="2026"
    )
    assert parse_project_patch({"description": None}) == ProjectPatch(description="")
    assert parse_project_patch({"description": "x"}) == ProjectPatch(description="x")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
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
    assert refused(parse_project_patch, body).field == field


def test_status_refusal_lists_the_choices() -> None:
    assert "ACTIVE, ARCHIVED, CLOSED" in refused(parse_project_patch, {"status": "X"}).message


# --- sessions -----------------------------------------------------------------------------


def test_new_session() -> None:
    assert parse_new_session({"type": "PRECHECK"}) == NewSession(SessionType.PRECHECK)
    assert parse_new_session({"type": "LOGBOOK", "title": " Week 1 "}) == NewSession(
        SessionType.LOGBOOK, "Week 1"
    )
    assert parse_new_session({"type": "T661", "title": "  "}) == NewSession(SessionType.T661, None)
    assert refused(parse_new_session, {"type": "T662"}).field == "type"
    assert refused(parse_new_session, {}).field == "type"
    assert refused(parse_new_session, {"type": "T661", "title": "x" * 9}, SMALL).field == "title"
    assert refused(parse_new_session, {"type": "T661", "name": "x"}).field == "name"


def test_session_status_and_title() -> None:
    assert parse_session_status({"status": "COMPLETED"}) is SessionStatus.COMPLETED
    assert refused(parse_session_status, {"status": "DONE"}).field == "status"
    assert refused(parse_session_status, {}).field == "status"
    assert parse_session_title({"title": " Renamed "}) == "Renamed"
    assert refused(parse_session_title, {"title": ""}).field == "title"
    assert refused(parse_session_title, {"title": None}).field == "title"


# --- runs ---------------------------------------------------------------------------------


def test_run_request() -> None:
    assert parse_run_request({"type": "T661", "input": "Draft it"}) == RunRequest(
        SessionType.T661, "Draft it"
    )
    full = parse_run_request(
        {
            "type": "T661_GEN",
            "input": "  keep my spaces\n",
            "selected_file_ids": ["f-1", "f_2"],
            "history_limit": 99,
        }
    )
    assert full == RunRequest(SessionType.T661_GEN, "  keep my spaces\n", ("f-1", "f_2"), 50)
    # Strict: empty or omitted attaches nothing.
    assert parse_run_request({"type": "T661", "input": "x", "selected_file_ids": []}).selected_file_ids == ()
    assert (
        parse_run_request({"type": "T661", "input": "x", "selected_file_ids": None}).selected_file_ids == ()
    )
    assert parse_run_request({"type": "T661", "input": "x", "history_limit": -2}).history_limit == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": "x"}, "type"),
        ({"type": "T661"}, "input"),
        ({"type": "T661", "input": "   "}, "input"),
        ({"type": "T661", "input": "x" * 31}, "input"),
        ({"type": "T661", "input": "x", "selected_file_ids": "f1"}, "selected_file_ids"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["f1", 2]}, "selected_file_ids[1]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["f1", ""]}, "selected_file_ids[1]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["../etc"]}, "selected_file_ids[0]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["f1", "f1"]}, "selected_file_ids[1]"),
        ({"type": "T661", "input": "x", "selected_file_ids": ["a", "b", "c"]}, "selected_file_ids"),
        ({"type": "T661", "input": "x", "history_limit": "10"}, "history_limit"),
        ({"type": "T661", "input": "x", "selectedFileIds": ["f1"]}, "selectedFileIds"),
    ],
)
def test_run_request_refusals(body: object, field: str) -> None:
    assert refused(parse_run_request, body, SMALL).field == field


def test_file_selection_is_strict() -> None:
    found = [
        FileRow("f1", "p1", "READY"),
        FileRow("f2", "p1", "INDEXING"),
        FileRow("f3", "p2", "READY"),
        FileRow("f4", "p1", "READY"),
    ]
    assert [f.id for f in check_file_selection(("f4", "f1"), found, "p1")] == ["f4", "f1"]
    assert check_file_selection((), found, "p1") == ()

    with pytest.raises(FileSelectionError) as not_ready:
        check_file_selection(("f1", "f2"), found, "p1")
    assert (not_ready.value.field, not_ready.value.file_id, not_ready.value.reason) == (
        "selected_file_ids[1]",
        "f2",
        "not_ready",
    )
    assert "INDEXING" in not_ready.value.message
    assert not_ready.value.to_json() == {
        "error": "file f2 is INDEXING, not READY",
        "field": "selected_file_ids[1]",
        "fileId": "f2",
        "reason": "not_ready",
    }
    # Another project's file reads exactly as a missing one.
    for other in ("f3", "nope"):
        with pytest.raises(FileSelectionError) as missing:
            check_file_selection((other,), found, "p1")
        assert missing.value.reason == "not_found"
        assert missing.value.message == f"file {other} does not belong to this project"
    error = pickle.loads(pickle.dumps(not_ready.value))
    assert (error.field, error.file_id, error.reason) == ("selected_file_ids[1]", "f2", "not_ready")
    assert isinstance(error, ValidationError)
