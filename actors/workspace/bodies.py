"""What the workspace API (``/api/v1``) accepts: request bodies and query parameters, typed once (pure).

The gateway decodes each request into one of these (``actors.core.bodies``), the session
host's ops carry them as they are (``actors/workspace/ops.py``), and the published OpenAPI
document is generated from them, so the check and the document cannot disagree. What a type
cannot say is checked after decoding, once, in ``validation.py``: texts stripped and not
blank, a file selected twice, and the limits that are settings (input size, files per run,
page size); the history bounds are clamped there (the spec clamps rather than refuses).

Project and session bodies are camelCase; a run's body keeps the spec's snake_case names
(``selected_file_ids``, ``history_limit``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..core.bodies import Body, Query
from ..core.values import MAX_SAFE_INTEGER

__all__ = [
    "FILE_ID_PATTERN",
    "MAX_DESCRIPTION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_TITLE_CHARS",
    "HistoryQuery",
    "NewProjectBody",
    "NewSessionBody",
    "PageQuery",
    "ProjectPatchBody",
    "ProjectStatus",
    "RunBody",
    "SessionStatus",
    "SessionStatusBody",
    "SessionTitleBody",
    "SessionType",
]

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
MAX_TITLE_CHARS = 200
# The session ids' alphabet (``actors.core.ids``): a file id goes into a URL path too.
FILE_ID_PATTERN = "^[A-Za-z0-9_-]{1,128}$"


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


Name = Annotated[
    str, Meta(min_length=1, max_length=MAX_NAME_CHARS, description="Surrounding spaces are dropped.")
]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)]
Title = Annotated[str, Meta(max_length=MAX_TITLE_CHARS)]
# Either spelling is accepted; the project keeps the string ("2025").
FiscalYear = (
    Annotated[str, Meta(pattern="^[12][0-9]{3}$", description='A four-digit year: `"2025"` or `2025`.')]
    | Annotated[int, Meta(ge=1000, le=2999)]
)
FileId = Annotated[str, Meta(pattern=FILE_ID_PATTERN)]


class NewProjectBody(Body, frozen=True):
    name: Name
    fiscal_year: FiscalYear
    description: Description | None = None


class ProjectPatchBody(Body, frozen=True):
    """A partial update: absent fields stay; `description: null` clears the description."""

    name: Name | UnsetType = UNSET
    fiscal_year: FiscalYear | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    status: ProjectStatus | UnsetType = UNSET


class NewSessionBody(Body, frozen=True):
    type: SessionType
    title: Title | None = None


class SessionStatusBody(Body, frozen=True):
    status: SessionStatus


class SessionTitleBody(Body, frozen=True):
    title: Annotated[str, Meta(min_length=1, max_length=MAX_TITLE_CHARS)]


_SELECTED = Meta(
    description="Files to attach (each in the project and READY; at most the server's limit). "
    "Empty or omitted attaches none.",
    extra_json_schema={"uniqueItems": True},
)
# Any integer is clamped, but a bigger one than this could not cross to the session host.
_HISTORY = Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER, description="Default 10, clamped to 0..50.")


class RunBody(Body, frozen=True):
    type: SessionType
    # Kept as written (leading spaces or a trailing newline may be meant); not blank.
    input: Annotated[str, Meta(min_length=1, description="The prompt (at most the server's input limit).")]
    selected_file_ids: Annotated[list[FileId], _SELECTED] | None = msgspec.field(
        default=None, name="selected_file_ids"
    )
    history_limit: Annotated[int, _HISTORY] | None = msgspec.field(default=None, name="history_limit")


_PAGE_SIZE = Meta(ge=1, description="Page size (1 to the server's limit; default 50).")


class PageQuery(Query, frozen=True):
    limit: Annotated[int, _PAGE_SIZE] | None = None
    offset: Annotated[int, Meta(ge=0, le=MAX_SAFE_INTEGER, description="Skip this many.")] = 0


class HistoryQuery(Query, frozen=True):
    limit: (
        Annotated[
            int,
            Meta(
                ge=-MAX_SAFE_INTEGER,
                le=MAX_SAFE_INTEGER,
                description="The newest this many (default 50, clamped to 0..200).",
            ),
        ]
        | None
    ) = None
