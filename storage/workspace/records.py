"""Plain records of the workspace's durable state (picklable: they cross the Ray boundary).

Timestamps are ISO 8601 strings in UTC with milliseconds (``storage.clock.utc_now_iso``),
stored as given on both backends, so a record reads back exactly as it was written and
two timestamps compare correctly as text.

The states storage itself acts on are enums with their transition tables here: a run's
status (one active run per session), a file's indexing status (the sweeper fails files
stuck in INDEXING), a message's role (history shows only USER and ASSISTANT) and a quota
reservation's state. A project's status and a session's type and status are the API's
vocabulary (``actors.workspace.validation``); storage keeps them as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "FILE_TRANSITIONS",
    "RUN_TRANSITIONS",
    "Chunk",
    "FileRecord",
    "FileStatus",
    "Message",
    "MessageRole",
    "Project",
    "QuotaExceeded",
    "QuotaReservation",
    "ReservationState",
    "Run",
    "RunStatus",
    "WorkspaceSession",
]


class MessageRole(StrEnum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    # Written by the server (e.g. why a run failed); never part of the history DTO.
    SYSTEM = "SYSTEM"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Status -> the statuses a run may move to from it. Finished runs never change again, so
# whichever of "cancel" and "the worker finished" commits first wins, and the other is told.
RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}

# A session has at most one run in these (a partial unique index enforces it).
ACTIVE_RUN_STATUSES: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


class FileStatus(StrEnum):
    UPLOADED = "UPLOADED"
    INDEXING = "INDEXING"
    READY = "READY"
    FAILED = "FAILED"


# A late indexing task cannot overwrite the sweeper's FAILED (INDEXING is left only once);
# FAILED and READY files may be indexed again.
FILE_TRANSITIONS: Mapping[FileStatus, frozenset[FileStatus]] = {
    FileStatus.UPLOADED: frozenset({FileStatus.INDEXING, FileStatus.FAILED}),
    FileStatus.INDEXING: frozenset({FileStatus.READY, FileStatus.FAILED}),
    FileStatus.READY: frozenset({FileStatus.INDEXING}),
    FileStatus.FAILED: frozenset({FileStatus.INDEXING}),
}


class ReservationState(StrEnum):
    RESERVED = "reserved"
    CONFIRMED = "confirmed"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Project:
    """``github`` is the project-scoped GitHub access (a token among it): it is kept out of
    ``repr`` and ``to_json``, so neither a log line nor an API answer ever shows it."""

    id: str
    owner_id: str
    name: str
    fiscal_year: str
    description: str
    status: str
    created_at: str
    updated_at: str
    github: dict[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "fiscalYear": self.fiscal_year,
            "description": self.description,
            "status": self.status,
            "githubConnected": self.github is not None,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class WorkspaceSession:
    id: str
    project_id: str
    owner_id: str
    type: str
    title: str | None
    status: str
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "projectId": self.project_id,
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a session. ``seq`` orders a session's messages (1, 2, ...): the store
    allocates it on append, whatever value the appended record carries."""

    id: str
    session_id: str
    role: MessageRole
    content: str
    run_id: str | None
    created_at: str
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Run:
    """One AI run of a session. ``result`` is the worker's payload (the API's ``python``)."""

    id: str
    session_id: str
    owner_id: str
    status: RunStatus
    input: str
    type: str
    selected_file_ids: tuple[str, ...]
    created_at: str
    result: dict[str, Any] | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    def to_json(self) -> dict[str, object]:
        return {
            "runId": self.id,
            "sessionId": self.session_id,
            "status": self.status.value,
            "type": self.type,
            "selectedFileIds": list(self.selected_file_ids),
            "error": self.error,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An uploaded file; its bytes live in the object store under ``object_key``.

    ``reason`` says why indexing failed (``None`` otherwise); ``indexing_started_at`` is
    when the current (or last) indexing began, what the sweeper compares.
    """

    id: str
    project_id: str
    owner_id: str
    name: str
    content_type: str
    size: int
    object_key: str
    status: FileStatus
    created_at: str
    updated_at: str
    reason: str | None = None
    chunks_count: int = 0
    indexing_started_at: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "projectId": self.project_id,
            "name": self.name,
            "contentType": self.content_type,
            "size": self.size,
            "status": self.status.value,
            "reason": self.reason,
            "chunksCount": self.chunks_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Chunk:
    file_id: str
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class QuotaReservation:
    """One run's claim on its user's quota for one period (``period_key``, e.g. 2026-01)."""

    run_id: str
    user_id: str
    period_key: str
    state: ReservationState
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class QuotaExceeded:
    """What ``reserve`` answers when the period's quota is used up (the API's 429)."""

    limit: int
    used: int
    resets_at: str
