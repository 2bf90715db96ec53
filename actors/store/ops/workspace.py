"""The workspace store's operations: projects, sessions, messages, runs, files, quota.

Each is one method of ``WorkspaceStore``, with that method's parameters (keyword-only
ones too) as its fields. ``retry``: reads, and updates that set fields to given values;
creates, deletes and state moves are not (a second one refuses or answers differently).
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from storage.workspace import (
    Chunk,
    FileRecord,
    FileStatus,
    Message,
    Project,
    QuotaExceeded,
    QuotaReservation,
    Run,
    RunStatus,
    WorkspaceSession,
)

from .base import StoreOp

__all__ = [
    "AppendMessage",
    "Confirm",
    "CreateFile",
    "CreateProject",
    "CreateRun",
    "CreateSession",
    "DeleteFile",
    "DeleteProject",
    "DeleteSession",
    "GetChunks",
    "GetFile",
    "GetFiles",
    "GetMessage",
    "GetProject",
    "GetReservation",
    "GetRun",
    "GetSession",
    "History",
    "ListFiles",
    "ListMessages",
    "ListProjects",
    "ListSessions",
    "PutChunks",
    "Release",
    "Reserve",
    "Reserved",
    "RunningRun",
    "SetFileStatus",
    "SetProjectGithub",
    "StaleIndexing",
    "UnfinishedRuns",
    "UpdateProject",
    "UpdateRun",
    "UpdateSession",
    "Usage",
]


class Reserved(msgspec.Struct, frozen=True, array_like=True):
    """What ``reserve`` answers: a reservation, or why there is none. Two record types
    cannot share one msgspec union untagged, so each has its own field."""

    reservation: QuotaReservation | None = None
    exceeded: QuotaExceeded | None = None

    @property
    def outcome(self) -> QuotaReservation | QuotaExceeded:
        if self.reservation is not None:
            return self.reservation
        if self.exceeded is not None:
            return self.exceeded
        raise ValueError("reserve answered neither a reservation nor an exceeded quota")


class CreateProject(StoreOp, tag="w.create_project", frozen=True):
    project: Project
    retry: ClassVar[bool] = False


class GetProject(StoreOp, tag="w.get_project", frozen=True):
    project_id: str
    answer: ClassVar[Any] = Project | None


class ListProjects(StoreOp, tag="w.list_projects", frozen=True):
    owner_id: str
    limit: int
    offset: int = 0
    answer: ClassVar[Any] = list[Project]


class UpdateProject(StoreOp, tag="w.update_project", frozen=True):
    project_id: str
    updated_at: str
    name: str | None = None
    fiscal_year: str | None = None
    description: str | None = None
    status: str | None = None
    answer: ClassVar[Any] = Project


class SetProjectGithub(StoreOp, tag="w.set_project_github", frozen=True):
    project_id: str
    github: dict[str, Any] | None
    updated_at: str
    answer: ClassVar[Any] = Project


class DeleteProject(StoreOp, tag="w.delete_project", frozen=True):
    project_id: str
    answer: ClassVar[Any] = list[str] | None
    retry: ClassVar[bool] = False


class CreateSession(StoreOp, tag="w.create_session", frozen=True):
    session: WorkspaceSession
    retry: ClassVar[bool] = False


class GetSession(StoreOp, tag="w.get_session", frozen=True):
    session_id: str
    answer: ClassVar[Any] = WorkspaceSession | None


class ListSessions(StoreOp, tag="w.list_sessions", frozen=True):
    project_id: str
    limit: int
    offset: int = 0
    answer: ClassVar[Any] = list[WorkspaceSession]


class UpdateSession(StoreOp, tag="w.update_session", frozen=True):
    session_id: str
    updated_at: str
    title: str | None = None
    status: str | None = None
    answer: ClassVar[Any] = WorkspaceSession


class DeleteSession(StoreOp, tag="w.delete_session", frozen=True):
    session_id: str
    answer: ClassVar[Any] = bool
    retry: ClassVar[bool] = False


class AppendMessage(StoreOp, tag="w.append_message", frozen=True):
    message: Message
    answer: ClassVar[Any] = Message
    retry: ClassVar[bool] = False


class GetMessage(StoreOp, tag="w.get_message", frozen=True):
    message_id: str
    answer: ClassVar[Any] = Message | None


class History(StoreOp, tag="w.history", frozen=True):
    session_id: str
    limit: int
    answer: ClassVar[Any] = list[Message]


class ListMessages(StoreOp, tag="w.list_messages", frozen=True):
    session_id: str
    limit: int
    after_seq: int = 0
    answer: ClassVar[Any] = list[Message]


class CreateRun(StoreOp, tag="w.create_run", frozen=True):
    run: Run
    retry: ClassVar[bool] = False


class GetRun(StoreOp, tag="w.get_run", frozen=True):
    run_id: str
    answer: ClassVar[Any] = Run | None


class RunningRun(StoreOp, tag="w.running_run", frozen=True):
    session_id: str
    answer: ClassVar[Any] = Run | None


class UpdateRun(StoreOp, tag="w.update_run", frozen=True):
    run_id: str
    status: RunStatus
    at: str
    result: dict[str, Any] | None = None
    error: str | None = None
    answer: ClassVar[Any] = Run
    retry: ClassVar[bool] = False


class UnfinishedRuns(StoreOp, tag="w.unfinished_runs", frozen=True):
    created_before: str
    answer: ClassVar[Any] = list[Run]


class CreateFile(StoreOp, tag="w.create_file", frozen=True):
    file: FileRecord
    retry: ClassVar[bool] = False


class GetFile(StoreOp, tag="w.get_file", frozen=True):
    file_id: str
    answer: ClassVar[Any] = FileRecord | None


class GetFiles(StoreOp, tag="w.get_files", frozen=True):
    file_ids: list[str]
    answer: ClassVar[Any] = list[FileRecord]


class ListFiles(StoreOp, tag="w.list_files", frozen=True):
    project_id: str
    limit: int
    offset: int = 0
    answer: ClassVar[Any] = list[FileRecord]


class SetFileStatus(StoreOp, tag="w.set_file_status", frozen=True):
    file_id: str
    status: FileStatus
    updated_at: str
    reason: str | None = None
    answer: ClassVar[Any] = FileRecord
    retry: ClassVar[bool] = False


class PutChunks(StoreOp, tag="w.put_chunks", frozen=True):
    file_id: str
    chunks: list[str]
    updated_at: str
    answer: ClassVar[Any] = FileRecord
    retry: ClassVar[bool] = False


class GetChunks(StoreOp, tag="w.get_chunks", frozen=True):
    file_id: str
    limit: int
    offset: int = 0
    answer: ClassVar[Any] = list[Chunk]


class DeleteFile(StoreOp, tag="w.delete_file", frozen=True):
    file_id: str
    answer: ClassVar[Any] = str | None
    retry: ClassVar[bool] = False


class StaleIndexing(StoreOp, tag="w.stale_indexing", frozen=True):
    older_than: str
    answer: ClassVar[Any] = list[FileRecord]


class Reserve(StoreOp, tag="w.reserve", frozen=True):
    user_id: str
    period_key: str
    limit: int
    run_id: str
    resets_at: str
    created_at: str
    answer: ClassVar[Any] = Reserved
    retry: ClassVar[bool] = False


class Confirm(StoreOp, tag="w.confirm", frozen=True):
    run_id: str
    updated_at: str
    answer: ClassVar[Any] = QuotaReservation
    retry: ClassVar[bool] = False


class Release(StoreOp, tag="w.release", frozen=True):
    run_id: str
    updated_at: str
    answer: ClassVar[Any] = bool
    retry: ClassVar[bool] = False


class GetReservation(StoreOp, tag="w.get_reservation", frozen=True):
    run_id: str
    answer: ClassVar[Any] = QuotaReservation | None


class Usage(StoreOp, tag="w.usage", frozen=True):
    user_id: str
    period_key: str
    answer: ClassVar[Any] = int
