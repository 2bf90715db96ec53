"""The workspace's checks a type cannot say, made after a body is decoded (pure).

A request body is decoded first (``actors/workspace/bodies.py``: fields, types, lengths,
vocabularies, unknown fields refused). What is left is said here, once, raising
``ValidationError`` naming the field (the gateway's 400):

* texts are stripped (but a run's ``input`` is kept as written) and must not be blank, and
  must be storable: valid Unicode, no NUL;
* a file is selected at most once;
* the limits that are settings (``RequestLimits``: a run's input size, files per run);
* the history bound is clamped (``Bound.clamp``): the spec clamps rather than refuses.

``check_file_selection`` is the run's strict file rule: it raises ``FileSelectionError``
(a ``ValidationError`` the gateway answers with 422) naming the first file that is not in
the project or not READY. A file of another project reads exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from msgspec import UNSET

from actors.core.errors import ValidationError

from .bodies import (
    NewProjectBody,
    NewSessionBody,
    ProjectPatchBody,
    ProjectStatus,
    RunBody,
    SessionTitleBody,
    SessionType,
)
from .clamps import RUN_HISTORY_LIMIT, Bound
from .errors import FileSelectionError

__all__ = [
    "FileLike",
    "FileSelectionError",
    "NewProject",
    "NewSession",
    "ProjectPatch",
    "RequestLimits",
    "RunRequest",
    "check_file_selection",
    "check_new_project",
    "check_new_session",
    "check_project_patch",
    "check_run",
    "check_session_title",
]

F = TypeVar("F", bound="FileLike")


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """The request bounds that are settings (the fixed ones are in the body types)."""

    max_input_chars: int = 50_000
    max_selected_files: int = 20


@dataclass(frozen=True, slots=True)
class NewProject:
    name: str
    fiscal_year: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ProjectPatch:
    """The fields a PATCH changes; ``None`` leaves one as it is."""

    name: str | None = None
    fiscal_year: str | None = None
    description: str | None = None
    status: ProjectStatus | None = None


@dataclass(frozen=True, slots=True)
class NewSession:
    type: SessionType
    title: str | None = None


@dataclass(frozen=True, slots=True)
class RunRequest:
    type: SessionType
    input: str
    selected_file_ids: tuple[str, ...] = ()
    history_limit: int = RUN_HISTORY_LIMIT.default


class FileLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def project_id(self) -> str: ...

    @property
    def status(self) -> str: ...


# --- texts --------------------------------------------------------------------------------


def _text(value: str, field: str, *, strip: bool = True) -> str:
    """``value`` stripped (unless ``strip`` is false), refused when blank or not storable."""
    text = value.strip() if strip else value
    if not text.strip():
        raise ValidationError(field, "must not be empty")
    return _storable(text, field)


def _storable(text: str, field: str) -> str:
    # Postgres TEXT refuses NUL, and a lone surrogate cannot be encoded at all. The gateway
    # refuses both while reading JSON; a body built in Python meets them here.
    if "\x00" in text:
        raise ValidationError(field, "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "must be valid Unicode (no lone surrogates)") from None
    return text


def _optional(value: str | None, field: str) -> str:
    """An optional text stripped; absent, null or blank reads as empty."""
    return "" if value is None else _storable(value.strip(), field)


# --- projects -----------------------------------------------------------------------------


def check_new_project(body: NewProjectBody) -> NewProject:
    return NewProject(
        _text(body.name, "name"), str(body.fiscal_year), _optional(body.description, "description")
    )


def check_project_patch(body: ProjectPatchBody) -> ProjectPatch:
    """The fields to change; ``description: null`` clears the description."""
    if all(value is UNSET for value in (body.name, body.fiscal_year, body.description, body.status)):
        raise ValidationError("body", "nothing to update (name, fiscalYear, description, status)")
    return ProjectPatch(
        name=None if body.name is UNSET else _text(body.name, "name"),
        fiscal_year=None if body.fiscal_year is UNSET else str(body.fiscal_year),
        description=None if body.description is UNSET else _optional(body.description, "description"),
        status=None if body.status is UNSET else body.status,
    )


# --- sessions -----------------------------------------------------------------------------


def check_new_session(body: NewSessionBody) -> NewSession:
    return NewSession(body.type, _optional(body.title, "title") or None)


def check_session_title(body: SessionTitleBody) -> str:
    return _text(body.title, "title")


# --- runs ---------------------------------------------------------------------------------


def _file_ids(
    ids: list[str] | None, limits: RequestLimits, field: str = "selected_file_ids"
) -> tuple[str, ...]:
    # Strict: an empty or omitted selection attaches nothing; nothing is ever implied.
    if ids is None:
        return ()
    if len(ids) > limits.max_selected_files:
        raise ValidationError(field, f"at most {limits.max_selected_files} files")
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            raise ValidationError(f"{field}[{index}]", f"file {item} is selected twice")
        seen.add(item)
    return tuple(ids)


def check_run(
    body: RunBody, limits: RequestLimits = RequestLimits(), history_bound: Bound = RUN_HISTORY_LIMIT
) -> RunRequest:
    # The prompt is kept as written: leading spaces or a trailing newline may be meant.
    text = _text(body.input, "input", strip=False)
    if len(text) > limits.max_input_chars:
        raise ValidationError("input", f"at most {limits.max_input_chars} characters")
    return RunRequest(
        body.type, text, _file_ids(body.selected_file_ids, limits), history_bound.clamp(body.history_limit)
    )


def check_file_selection(
    selected: Sequence[str], found: Iterable[F], project_id: str, *, field: str = "selected_file_ids"
) -> tuple[F, ...]:
    """The selected files in selection order, each in the project and READY; ``found`` is
    what the store returned for the ids (in any order, possibly other projects' files)."""
    by_id = {f.id: f for f in found}
    chosen: list[F] = []
    for index, file_id in enumerate(selected):
        where = f"{field}[{index}]"
        record = by_id.get(file_id)
        if record is None or record.project_id != project_id:
            raise FileSelectionError(
                where, file_id, "not_found", f"file {file_id} does not belong to this project"
            )
        status = str(record.status)
        if status != "READY":
            raise FileSelectionError(where, file_id, "not_ready", f"file {file_id} is {status}, not READY")
        chosen.append(record)
    return tuple(chosen)
