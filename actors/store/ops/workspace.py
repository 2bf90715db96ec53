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


class CreateProject(StoreOp[None], tag="w.create_project", frozen=True):
    project: Project
    retry: ClassVar[bool] = False


class GetProject(StoreOp[Project | None], tag="w.get_project", frozen=True):
    project_id: str


class ListProjects(StoreOp[list[Project]], tag="w.list_projects", frozen=True):
    owner_id: str
    limit: int
    offset: int = 0


class UpdateProject(StoreOp[Project], tag="w.update_project", frozen=True):
    project_id: str
    updated_at: str
    name: str | None = None
    fiscal_year: str | None = None
    description: str | None = None
    status: str | None = None


class SetProjectGithub(StoreOp[Project], tag="w.set_project_github", frozen=True):
    project_id: str
    github: dict[str, Any] | None
    updated_at: str


class DeleteProject(StoreOp[list[str] | None], tag="w.delete_project", frozen=True):
    project_id: str
    retry: ClassVar[bool] = False


class CreateSession(StoreOp[None], tag="w.create_session", frozen=True):
    session: WorkspaceSession
    retry: ClassVar[bool] = False


class GetSession(StoreOp[WorkspaceSession | None], tag="w.get_session", frozen=True):
    session_id: str


class ListSessions(StoreOp[list[WorkspaceSession]], tag="w.list_sessions", frozen=True):
    project_id: str
    limit: int
    offset: int = 0


class UpdateSession(StoreOp[WorkspaceSession], tag="w.update_session", frozen=True):
    session_id: str
    updated_at: str
    title: str | None = None
    status: str | None = None


class DeleteSession(StoreOp[bool], tag="w.delete_session", frozen=True):
    session_id: str
    retry: ClassVar[bool] = False


class AppendMessage(StoreOp[Message], tag="w.append_message", frozen=True):
    message: Message
    retry: ClassVar[bool] = False


class GetMessage(StoreOp[Message | None], tag="w.get_message", frozen=True):
    message_id: str


class History(StoreOp[list[Message]], tag="w.history", frozen=True):
    session_id: str
    limit: int


class ListMessages(StoreOp[list[Message]], tag="w.list_messages", frozen=True):
    session_id: str
    limit: int
    after_seq: int = 0


class CreateRun(StoreOp[None], tag="w.create_run", frozen=True):
    run: Run
    retry: ClassVar[bool] = False


class GetRun(StoreOp[Run | None], tag="w.get_run", frozen=True):
    run_id: str


class RunningRun(StoreOp[Run | None], tag="w.running_run", frozen=True):
    session_id: str


class UpdateRun(StoreOp[Run], tag="w.update_run", frozen=True):
    run_id: str
    status: RunStatus
    at: str
    result: dict[str, Any] | None = None
    error: str | None = None
    retry: ClassVar[bool] = False


class UnfinishedRuns(StoreOp[list[Run]], tag="w.unfinished_runs", frozen=True):
    created_before: str


class CreateFile(StoreOp[None], tag="w.create_file", frozen=True):
    file: FileRecord
    retry: ClassVar[bool] = False


class GetFile(StoreOp[FileRecord | None], tag="w.get_file", frozen=True):
    file_id: str


class GetFiles(StoreOp[list[FileRecord]], tag="w.get_files", frozen=True):
    file_ids: list[str]


class ListFiles(StoreOp[list[FileRecord]], tag="w.list_files", frozen=True):
    project_id: str
    limit: int
    offset: int = 0


class SetFileStatus(StoreOp[FileRecord], tag="w.set_file_status", frozen=True):
    file_id: str
    status: FileStatus
    updated_at: str
    reason: str | None = None
    retry: ClassVar[bool] = False


class PutChunks(StoreOp[FileRecord], tag="w.put_chunks", frozen=True):
    file_id: str
    chunks: list[str]
    updated_at: str
    retry: ClassVar[bool] = False


class GetChunks(StoreOp[list[Chunk]], tag="w.get_chunks", frozen=True):
    file_id: str
    limit: int
    offset: int = 0


class DeleteFile(StoreOp[str | None], tag="w.delete_file", frozen=True):
    file_id: str
    retry: ClassVar[bool] = False


class StaleIndexing(StoreOp[list[FileRecord]], tag="w.stale_indexing", frozen=True):
    older_than: str


class Reserve(StoreOp[Reserved], tag="w.reserve", frozen=True):
    user_id: str
    period_key: str
    limit: int
    run_id: str
    resets_at: str
    created_at: str
    retry: ClassVar[bool] = False


class Confirm(StoreOp[QuotaReservation], tag="w.confirm", frozen=True):
    run_id: str
    updated_at: str
    retry: ClassVar[bool] = False


class Release(StoreOp[bool], tag="w.release", frozen=True):
    run_id: str
    updated_at: str
    retry: ClassVar[bool] = False


class GetReservation(StoreOp[QuotaReservation | None], tag="w.get_reservation", frozen=True):
    run_id: str


class Usage(StoreOp[int], tag="w.usage", frozen=True):
    user_id: str
    period_key: str
