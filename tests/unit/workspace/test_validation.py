"""What is checked after a body is decoded: texts, a file selected twice, the limits that are
settings, the clamped history bound; and the strict file selection."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.workspace.bodies import (
    NewProjectBody,
    NewSessionBody,
    ProjectPatchBody,
    ProjectStatus,
    RunBody,
    SessionTitleBody,
    SessionType,
)
from actors.workspace.clamps import Bound
from actors.workspace.validation import (
    FileSelectionError,
    NewProject,
    NewSession,
    ProjectPatch,
    RequestLimits,
    RunRequest,
    check_file_selection,
    check_new_project,
    check_new_session,
    check_project_patch,
    check_run,
    check_session_title,
)

from .samples import FileRow

SMALL = RequestLimits(max_input_chars=30, max_selected_files=2)


def refused(check: Any, body: object, *args: Any) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        check(body, *args)
    return error.value


def _project(**fields: Any) -> NewProjectBody:
    return NewProjectBody(**{"name": "W", "fiscal_year": "2025", **fields})


def _run(**fields: Any) -> RunBody:
    return RunBody(**{"type": SessionType.T661, "input": "x", **fields})


# --- projects -----------------------------------------------------------------------------


def test_new_project() -> None:
    assert check_new_project(_project(name=" Widget R&D ", description="AI")) == NewProject(
        "Widget R&D", "2025", "AI"
    )
    assert check_new_project(_project(fiscal_year=2024)) == NewProject("W", "2024", "")
    assert check_new_project(_project(description=None)).description == ""


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (_project(name="  "), "name", "must not be empty"),
        (_project(name="a\x00b"), "name", "NUL"),
        (_project(name="a\ud800"), "name", "lone surrogates"),
        (_project(description="a\x00"), "description", "NUL"),
    ],
)
def test_new_project_refusals(body: NewProjectBody, field: str, message: str) -> None:
    error = refused(check_new_project, body)
    assert error.field == field
    assert message in error.message


def test_project_patch_is_partial() -> None:
    assert check_project_patch(ProjectPatchBody(status=ProjectStatus.ARCHIVED)) == ProjectPatch(
        status=ProjectStatus.ARCHIVED
    )
    assert check_project_patch(ProjectPatchBody(name=" New ", fiscal_year=2026)) == ProjectPatch(
        name="New", fiscal_year="2026"
    )
    assert check_project_patch(ProjectPatchBody(description=None)) == ProjectPatch(description="")
    assert check_project_patch(ProjectPatchBody(description="x")) == ProjectPatch(description="x")


def test_project_patch_refusals() -> None:
    assert refused(check_project_patch, ProjectPatchBody()).field == "body"
    assert refused(check_project_patch, ProjectPatchBody(name=" ")).field == "name"


# --- sessions -----------------------------------------------------------------------------


def test_new_session() -> None:
    assert check_new_session(NewSessionBody(type=SessionType.PRECHECK)) == NewSession(SessionType.PRECHECK)
    assert check_new_session(NewSessionBody(type=SessionType.LOGBOOK, title=" Week 1 ")) == NewSession(
        SessionType.LOGBOOK, "Week 1"
    )
    assert check_new_session(NewSessionBody(type=SessionType.T661, title="  ")) == NewSession(
        SessionType.T661, None
    )


def test_session_title() -> None:
    assert check_session_title(SessionTitleBody(title=" Renamed ")) == "Renamed"
    assert refused(check_session_title, SessionTitleBody(title="  ")).field == "title"


# --- runs ---------------------------------------------------------------------------------


def test_run_request() -> None:
    assert check_run(_run(input="Draft it")) == RunRequest(SessionType.T661, "Draft it")
    full = check_run(
        RunBody(
            type=SessionType.T661_GEN,
            input="  keep my spaces\n",
            selected_file_ids=["f-1", "f_2"],
            history_limit=99,
        )
    )
    assert full == RunRequest(SessionType.T661_GEN, "  keep my spaces\n", ("f-1", "f_2"), 50)
    # Strict: empty or omitted attaches nothing.
    assert check_run(_run(selected_file_ids=[])).selected_file_ids == ()
    assert check_run(_run(selected_file_ids=None)).selected_file_ids == ()
    assert check_run(_run(history_limit=-2)).history_limit == 0
    assert check_run(_run(history_limit=0), SMALL, Bound(default=5, low=1, high=20)).history_limit == 1
    assert check_run(_run(), SMALL, Bound(default=5, low=1, high=20)).history_limit == 5


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (_run(input="   "), "input", "must not be empty"),
        (_run(input="x" * 31), "input", "at most 30 characters"),
        (_run(selected_file_ids=["f1", "f1"]), "selected_file_ids[1]", "file f1 is selected twice"),
        (_run(selected_file_ids=["a", "b", "c"]), "selected_file_ids", "at most 2 files"),
    ],
)
def test_run_request_refusals(body: RunBody, field: str, message: str) -> None:
    error = refused(check_run, body, SMALL)
    assert (error.field, error.message) == (field, message)


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
