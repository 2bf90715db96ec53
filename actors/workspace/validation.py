"""The workspace's request bodies, checked by value (pure).

Each parser takes the decoded JSON body and returns a small typed request or raises
``ValidationError`` naming the field (the gateway's 400). Unknown keys are refused by name,
so a typo (``selectedFileIds`` for ``selected_file_ids``) is an error, not a silent no-op.
Every text is bounded by ``RequestLimits`` and must be storable: valid Unicode, no NUL.

The documented vocabularies:

* session types: PRECHECK, T661, T661_GEN, T661_DRAFT, T661_ANALYSIS, LOGBOOK
* project status: ACTIVE (new projects), ARCHIVED, CLOSED
* session status: ACTIVE (new sessions), COMPLETED, ARCHIVED
* ``fiscalYear``: a four-digit year, as a string (``"2025"``) or a number (``2025``)

``check_file_selection`` is the run's strict file rule: it raises ``FileSelectionError``
(a ``ValidationError`` the gateway answers with 422) naming the first file that is not in
the project or not READY. A file of another project reads exactly as a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, Self, TypeVar

from actors.core.errors import ValidationError
from actors.core.ids import valid_session_id

from .clamps import RUN_HISTORY_LIMIT, Bound, parse_run_history_limit

__all__ = [
    "FileLike",
    "FileSelectionError",
    "NewProject",
    "NewSession",
    "ProjectPatch",
    "ProjectStatus",
    "RequestLimits",
    "RunRequest",
    "SessionStatus",
    "SessionType",
    "check_file_selection",
    "parse_new_project",
    "parse_new_session",
    "parse_project_patch",
    "parse_run_request",
    "parse_session_status",
    "parse_session_title",
]

E = TypeVar("E", bound=StrEnum)
F = TypeVar("F", bound="FileLike")

_YEAR = re.compile(r"[12][0-9]{3}")


class SessionType(StrEnum):
    PRECHECK = "PRECHECK"
    T661 = "T661"
    T661_GEN = "T661_GEN"
    T661_DRAFT = "T661_DRAFT"
    T661_ANALYSIS = "T661_ANALYSIS"
    LOGBOOK = "LOGBOOK"


class ProjectStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    CLOSED = "CLOSED"


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_name_chars: int = 200
    max_description_chars: int = 10_000
    max_title_chars: int = 200
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


class FileSelectionError(ValidationError):
    """A selected file cannot be attached (422): ``reason`` is ``not_found`` or ``not_ready``."""

    def __init__(self, field: str, file_id: str, reason: str, message: str) -> None:
        super().__init__(field, message)
        self.file_id = file_id
        self.reason = reason

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "fileId": self.file_id, "reason": self.reason}

    def __reduce__(self) -> tuple[type[FileSelectionError], tuple[str, str, str, str]]:
        return (FileSelectionError, (self.field, self.file_id, self.reason, self.message))

    def wire_detail(self) -> Any:
        return {"field": self.field, "fileId": self.file_id, "reason": self.reason}

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(detail["field"], detail["fileId"], detail["reason"], message)


# --- field readers ------------------------------------------------------------------------


def _object(body: object, allowed: Sequence[str]) -> Mapping[str, object]:
    if not isinstance(body, Mapping):
        raise ValidationError("body", "must be a JSON object")
    for key in body:
        if key not in allowed:
            raise ValidationError(str(key), f"unknown key (allowed: {', '.join(allowed)})")
    return body


def _text(value: object, field: str, max_chars: int, *, required: bool, strip: bool = True) -> str | None:
    if value is None:
        if required:
            raise ValidationError(field, "required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    text = value.strip() if strip else value
    if required and not text.strip():
        raise ValidationError(field, "must not be empty")
    if len(text) > max_chars:
        raise ValidationError(field, f"at most {max_chars} characters")
    # Postgres TEXT refuses NUL, and a lone surrogate cannot be encoded at all.
    if "\x00" in text:
        raise ValidationError(field, "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "must be valid Unicode (no lone surrogates)") from None
    return text


def _choice(value: object, field: str, kind: type[E]) -> E:
    choices = ", ".join(member.value for member in kind)
    if not isinstance(value, str):
        raise ValidationError(field, f"required, one of {choices}")
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(field, f"unknown value {value!r} (one of {choices})") from None


def _fiscal_year(value: object, field: str = "fiscalYear") -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(field, 'required: a four-digit year such as "2025"')
    text = str(value).strip()
    if not _YEAR.fullmatch(text):
        raise ValidationError(field, f'must be a four-digit year such as "2025", not {value!r}')
    return text


# --- projects -----------------------------------------------------------------------------


def parse_new_project(body: object, limits: RequestLimits = RequestLimits()) -> NewProject:
    fields = _object(body, ("name", "fiscalYear", "description"))
    name = _text(fields.get("name"), "name", limits.max_name_chars, required=True)
    description = _text(
        fields.get("description"), "description", limits.max_description_chars, required=False
    )
    assert name is not None
    return NewProject(name, _fiscal_year(fields.get("fiscalYear")), description or "")


def parse_project_patch(body: object, limits: RequestLimits = RequestLimits()) -> ProjectPatch:
    """A partial update: absent fields stay; ``description: null`` clears the description,
    while ``name``, ``fiscalYear`` and ``status`` cannot be null."""
    fields = _object(body, ("name", "fiscalYear", "description", "status"))
    if not fields:
        raise ValidationError("body", "nothing to update (name, fiscalYear, description, status)")
    for key in ("name", "fiscalYear", "status"):
        if key in fields and fields[key] is None:
            raise ValidationError(key, "cannot be null")
    description: str | None = None
    if "description" in fields:
        description = (
            _text(fields["description"], "description", limits.max_description_chars, required=False) or ""
        )
    return ProjectPatch(
        name=_text(fields.get("name"), "name", limits.max_name_chars, required="name" in fields),
        fiscal_year=_fiscal_year(fields["fiscalYear"]) if "fiscalYear" in fields else None,
        description=description,
        status=_choice(fields["status"], "status", ProjectStatus) if "status" in fields else None,
    )


# --- sessions -----------------------------------------------------------------------------


def parse_new_session(body: object, limits: RequestLimits = RequestLimits()) -> NewSession:
    fields = _object(body, ("type", "title"))
    title = _text(fields.get("title"), "title", limits.max_title_chars, required=False)
    return NewSession(_choice(fields.get("type"), "type", SessionType), title or None)


def parse_session_status(body: object) -> SessionStatus:
    fields = _object(body, ("status",))
    return _choice(fields.get("status"), "status", SessionStatus)


def parse_session_title(body: object, limits: RequestLimits = RequestLimits()) -> str:
    fields = _object(body, ("title",))
    title = _text(fields.get("title"), "title", limits.max_title_chars, required=True)
    assert title is not None
    return title


# --- runs ---------------------------------------------------------------------------------


def _file_ids(value: object, limits: RequestLimits, field: str = "selected_file_ids") -> tuple[str, ...]:
    # Strict: an empty or omitted selection attaches nothing; nothing is ever implied.
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(field, "must be a list of file ids")
    if len(value) > limits.max_selected_files:
        raise ValidationError(field, f"at most {limits.max_selected_files} files")
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, str) or not valid_session_id(item):
            raise ValidationError(where, "must be a file id")
        if item in seen:
            raise ValidationError(where, f"file {item} is selected twice")
        seen.add(item)
    return tuple(value)


def parse_run_request(
    body: object,
    limits: RequestLimits = RequestLimits(),
    history_bound: Bound = RUN_HISTORY_LIMIT,
) -> RunRequest:
    fields = _object(body, ("type", "input", "selected_file_ids", "history_limit"))
    run_type = _choice(fields.get("type"), "type", SessionType)
    # The prompt is kept as written: leading spaces or a trailing newline may be meant.
    text = _text(fields.get("input"), "input", limits.max_input_chars, required=True, strip=False)
    assert text is not None
    return RunRequest(
        run_type,
        text,
        _file_ids(fields.get("selected_file_ids"), limits),
        parse_run_history_limit(fields.get("history_limit"), history_bound),
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
