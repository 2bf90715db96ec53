"""What the workspace's operations answer, typed once (pure).

Each op in ``ops.py`` names one of these as its answer (``Op[WorkspaceSession]``): the
host sends it as plain values and the session client rebuilds and checks it, refusing a
field the type does not know, so a host and its type cannot drift apart unnoticed. The
gateway writes them out as JSON and the OpenAPI document's answer schemas are generated
from the same types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from storage.workspace import FileRecord, FileStatus
from storage.workspace import Project as ProjectRecord
from storage.workspace import WorkspaceSession as SessionRecord

from ..core.answers import Answer
from .bodies import ProjectStatus, SessionStatus, SessionType

__all__ = [
    "Answer",
    "File",
    "HistoryMessage",
    "Project",
    "QuotaAnswer",
    "Run",
    "RunMessages",
    "RunResult",
    "RunStatus",
    "WorkspaceSession",
]

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class Project(Answer, frozen=True):
    id: str
    name: str
    fiscal_year: str
    description: str
    status: ProjectStatus
    github_connected: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, project: ProjectRecord) -> Project:
        return msgspec.convert(project.to_json(), cls)


class WorkspaceSession(Answer, frozen=True):
    id: str
    project_id: str
    type: SessionType
    title: str | None
    status: SessionStatus
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, session: SessionRecord) -> WorkspaceSession:
        return msgspec.convert(session.to_json(), cls)


class File(Answer, frozen=True):
    id: str
    project_id: str
    name: str
    content_type: str
    size: Annotated[int, Meta(ge=0)]
    status: FileStatus
    #: Why indexing failed.
    reason: str | None
    chunks: Annotated[int, Meta(ge=0)]
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, record: FileRecord) -> File:
        return cls(
            id=record.id,
            project_id=record.project_id,
            name=record.name,
            content_type=record.content_type,
            size=record.size,
            status=record.status,
            reason=record.reason,
            chunks=record.chunks_count,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class HistoryMessage(Answer, frozen=True):
    id: str
    role: Literal["USER", "ASSISTANT"]
    content: str
    created_at: str
    run_id: str | None


class RunMessages(Answer, frozen=True):
    user_message_id: str
    #: Null when the run failed: no answer was written.
    assistant_message_id: str | None


_PYTHON = Meta(description="The worker's raw result (`status`, `output`, `error`).")


class RunResult(Answer, frozen=True):
    """What a finished run produced (``POST .../runs`` waits for it)."""

    run_id: str
    python: Annotated[dict[str, Any], _PYTHON]
    messages: RunMessages
    selected_file_ids: list[str]


class Run(Answer, frozen=True):
    run_id: str
    session_id: str
    status: RunStatus
    type: SessionType
    selected_file_ids: list[str]
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    error: str | None
    python: Annotated[dict[str, Any], _PYTHON] | None


class QuotaAnswer(Answer, frozen=True):
    """The caller's runs in the current quota period."""

    limit: int
    used: int
    remaining: int
    period: str
    resets_at: str
