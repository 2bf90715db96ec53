"""The workspace store at the store owner: each method sends its one op.

Workspace services call it as they would call a ``WorkspaceStore`` (opening and closing
it is the store owner's business); every method is one line over the store client's
``call`` (the one path to the store owner).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

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

from .ops import StoreCalls
from .ops import workspace as ops

__all__ = ["LinkWorkspaceStore"]


class LinkWorkspaceStore:
    def __init__(self, client: StoreCalls) -> None:
        self._call = client.call

    # -- projects ---------------------------------------------------------------------

    async def create_project(self, project: Project) -> None:
        await self._call(ops.CreateProject(project))

    async def get_project(self, project_id: str) -> Project | None:
        return cast(Project | None, await self._call(ops.GetProject(project_id)))

    async def list_projects(self, owner_id: str, limit: int, offset: int = 0) -> list[Project]:
        return cast(list[Project], await self._call(ops.ListProjects(owner_id, limit, offset)))

    async def update_project(
        self,
        project_id: str,
        *,
        updated_at: str,
        name: str | None = None,
        fiscal_year: str | None = None,
        description: str | None = None,
        status: str | None = None,
    ) -> Project:
        op = ops.UpdateProject(project_id, updated_at, name, fiscal_year, description, status)
        return cast(Project, await self._call(op))

    async def set_project_github(
        self, project_id: str, github: dict[str, Any] | None, *, updated_at: str
    ) -> Project:
        return cast(Project, await self._call(ops.SetProjectGithub(project_id, github, updated_at)))

    async def delete_project(self, project_id: str) -> list[str] | None:
        return cast(list[str] | None, await self._call(ops.DeleteProject(project_id)))

    # -- sessions ---------------------------------------------------------------------

    async def create_session(self, session: WorkspaceSession) -> None:
        await self._call(ops.CreateSession(session))

    async def get_session(self, session_id: str) -> WorkspaceSession | None:
        return cast(WorkspaceSession | None, await self._call(ops.GetSession(session_id)))

    async def list_sessions(self, project_id: str, limit: int, offset: int = 0) -> list[WorkspaceSession]:
        return cast(list[WorkspaceSession], await self._call(ops.ListSessions(project_id, limit, offset)))

    async def update_session(
        self, session_id: str, *, updated_at: str, title: str | None = None, status: str | None = None
    ) -> WorkspaceSession:
        op = ops.UpdateSession(session_id, updated_at, title, status)
        return cast(WorkspaceSession, await self._call(op))

    async def delete_session(self, session_id: str) -> bool:
        return cast(bool, await self._call(ops.DeleteSession(session_id)))

    # -- messages ---------------------------------------------------------------------

    async def append_message(self, message: Message) -> Message:
        return cast(Message, await self._call(ops.AppendMessage(message)))

    async def get_message(self, message_id: str) -> Message | None:
        return cast(Message | None, await self._call(ops.GetMessage(message_id)))

    async def history(self, session_id: str, limit: int) -> list[Message]:
        return cast(list[Message], await self._call(ops.History(session_id, limit)))

    async def list_messages(self, session_id: str, *, after_seq: int = 0, limit: int) -> list[Message]:
        return cast(list[Message], await self._call(ops.ListMessages(session_id, limit, after_seq)))

    # -- runs -------------------------------------------------------------------------

    async def create_run(self, run: Run) -> None:
        await self._call(ops.CreateRun(run))

    async def get_run(self, run_id: str) -> Run | None:
        return cast(Run | None, await self._call(ops.GetRun(run_id)))

    async def running_run(self, session_id: str) -> Run | None:
        return cast(Run | None, await self._call(ops.RunningRun(session_id)))

    async def update_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        at: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Run:
        return cast(Run, await self._call(ops.UpdateRun(run_id, status, at, result, error)))

    async def unfinished_runs(self, created_before: str) -> list[Run]:
        return cast(list[Run], await self._call(ops.UnfinishedRuns(created_before)))

    # -- files ------------------------------------------------------------------------

    async def create_file(self, file: FileRecord) -> None:
        await self._call(ops.CreateFile(file))

    async def get_file(self, file_id: str) -> FileRecord | None:
        return cast(FileRecord | None, await self._call(ops.GetFile(file_id)))

    async def get_files(self, file_ids: Sequence[str]) -> list[FileRecord]:
        return cast(list[FileRecord], await self._call(ops.GetFiles(list(file_ids))))

    async def list_files(self, project_id: str, limit: int, offset: int = 0) -> list[FileRecord]:
        return cast(list[FileRecord], await self._call(ops.ListFiles(project_id, limit, offset)))

    async def set_file_status(
        self, file_id: str, status: FileStatus, *, updated_at: str, reason: str | None = None
    ) -> FileRecord:
        return cast(FileRecord, await self._call(ops.SetFileStatus(file_id, status, updated_at, reason)))

    async def put_chunks(self, file_id: str, chunks: Sequence[str], *, updated_at: str) -> FileRecord:
        return cast(FileRecord, await self._call(ops.PutChunks(file_id, list(chunks), updated_at)))

    async def get_chunks(self, file_id: str, *, offset: int = 0, limit: int) -> list[Chunk]:
        return cast(list[Chunk], await self._call(ops.GetChunks(file_id, limit, offset)))

    async def delete_file(self, file_id: str) -> str | None:
        return cast(str | None, await self._call(ops.DeleteFile(file_id)))

    async def stale_indexing(self, older_than: str) -> list[FileRecord]:
        return cast(list[FileRecord], await self._call(ops.StaleIndexing(older_than)))

    # -- quota ledger -----------------------------------------------------------------

    async def reserve(
        self, user_id: str, period_key: str, limit: int, run_id: str, *, resets_at: str, created_at: str
    ) -> QuotaReservation | QuotaExceeded:
        op = ops.Reserve(user_id, period_key, limit, run_id, resets_at, created_at)
        return cast(ops.Reserved, await self._call(op)).outcome

    async def confirm(self, run_id: str, *, updated_at: str) -> QuotaReservation:
        return cast(QuotaReservation, await self._call(ops.Confirm(run_id, updated_at)))

    async def release(self, run_id: str, *, updated_at: str) -> bool:
        return cast(bool, await self._call(ops.Release(run_id, updated_at)))

    async def get_reservation(self, run_id: str) -> QuotaReservation | None:
        return cast(QuotaReservation | None, await self._call(ops.GetReservation(run_id)))

    async def usage(self, user_id: str, period_key: str) -> int:
        return cast(int, await self._call(ops.Usage(user_id, period_key)))
