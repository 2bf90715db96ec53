"""The workspace storage contract every backend (SQLite, Postgres) fulfils."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from storage.errors import StoreError
from storage.sql.base import Lifecycle

from .records import (
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

__all__ = [
    "Conflict",
    "IllegalTransition",
    "NotFound",
    "RunInProgress",
    "WorkspaceStore",
    "WorkspaceStoreError",
]


class WorkspaceStoreError(StoreError):
    """The workspace store could not complete an operation; nothing of it was committed."""


class NotFound(WorkspaceStoreError):
    """The record, or a record it refers to (its project, its session, its file), does not exist."""


class Conflict(WorkspaceStoreError):
    """A record with that key exists already (a project/session/run/file/message id)."""


class RunInProgress(Conflict):
    """The session already has a queued or running run (the API's 409 names it)."""

    def __init__(self, session_id: str, run_id: str) -> None:
        super().__init__(f"session {session_id} already has run {run_id} in progress")
        self.session_id = session_id
        self.run_id = run_id

    def __reduce__(self) -> tuple[type[RunInProgress], tuple[str, str]]:
        return (RunInProgress, (self.session_id, self.run_id))


class IllegalTransition(WorkspaceStoreError):
    """A state change the record's transition table does not allow from its current state,
    e.g. finishing a run that was cancelled meanwhile, or the sweeper failing a file that
    became READY meanwhile. Names the record, where it is and where it was asked to go."""

    def __init__(self, what: str, record_id: str, current: str, target: str) -> None:
        super().__init__(f"{what} {record_id} cannot move from {current} to {target}")
        self.what = what
        self.record_id = record_id
        self.current = current
        self.target = target

    def __reduce__(self) -> tuple[type[IllegalTransition], tuple[str, str, str, str]]:
        return (IllegalTransition, (self.what, self.record_id, self.current, self.target))


class WorkspaceStore(Lifecycle, Protocol):
    """Projects, their sessions, messages and runs, their files and chunks, and the quota ledger.

    Every write is one transaction. ``get_*`` are not scoped: the caller reads the owner
    from the record to answer 403 rather than 404. Lists are newest first (``created_at``
    descending, then ``id``) and paged by ``limit``/``offset``.

    Deletes cascade: a project takes its sessions (with their messages and runs) and its
    files (with their chunks); a session takes its messages and runs. Quota reservations
    are never deleted (a deleted run's confirmed use still counts), but those still only
    reserved for a deleted run are released in the same transaction.
    """

    # projects
    async def create_project(self, project: Project) -> None: ...

    async def get_project(self, project_id: str) -> Project | None: ...

    async def list_projects(self, owner_id: str, limit: int, offset: int = 0) -> list[Project]: ...

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
        """Changes the fields given (``None``: unchanged); raises ``NotFound``."""
        ...

    async def set_project_github(
        self, project_id: str, github: dict[str, Any] | None, *, updated_at: str
    ) -> Project:
        """Sets (or, with ``None``, removes) the project's GitHub access; raises ``NotFound``."""
        ...

    async def delete_project(self, project_id: str) -> list[str] | None:
        """Deletes the project and everything in it; returns the object keys of its files
        (the caller deletes the bytes) or ``None`` if there was no such project."""
        ...

    # sessions
    async def create_session(self, session: WorkspaceSession) -> None:
        """Raises ``NotFound`` if its project does not exist."""
        ...

    async def get_session(self, session_id: str) -> WorkspaceSession | None: ...

    async def list_sessions(self, project_id: str, limit: int, offset: int = 0) -> list[WorkspaceSession]: ...

    async def update_session(
        self,
        session_id: str,
        *,
        updated_at: str,
        title: str | None = None,
        status: str | None = None,
    ) -> WorkspaceSession:
        """Changes the fields given (``None``: unchanged); raises ``NotFound``."""
        ...

    async def delete_session(self, session_id: str) -> bool:
        """Deletes the session, its messages and runs; ``False`` if there was no such session."""
        ...

    # messages
    async def append_message(self, message: Message) -> Message:
        """Appends to the session's messages and returns the record with its ``seq`` (the
        next of the session, whatever ``message.seq`` says); ``NotFound`` without a session."""
        ...

    async def get_message(self, message_id: str) -> Message | None: ...

    async def history(self, session_id: str, limit: int) -> list[Message]:
        """The session's last ``limit`` USER and ASSISTANT messages, oldest first."""
        ...

    async def list_messages(self, session_id: str, *, after_seq: int = 0, limit: int) -> list[Message]:
        """Messages of every role with ``seq > after_seq``, oldest first."""
        ...

    # runs
    async def create_run(self, run: Run) -> None:
        """Raises ``RunInProgress`` if the session has a queued or running run already,
        ``NotFound`` without the session, ``Conflict`` for a known run id."""
        ...

    async def get_run(self, run_id: str) -> Run | None: ...

    async def running_run(self, session_id: str) -> Run | None:
        """The session's queued or running run, if any."""
        ...

    async def update_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        at: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Run:
        """Moves the run to ``status`` as ``RUN_TRANSITIONS`` allows (else ``IllegalTransition``).

        ``at`` becomes ``started_at`` on RUNNING and ``finished_at`` on a final status;
        ``result`` / ``error`` are written when given.
        """
        ...

    async def unfinished_runs(self, created_before: str) -> list[Run]:
        """Queued or running runs created before the cutoff, oldest first (for a sweeper)."""
        ...

    # files
    async def create_file(self, file: FileRecord) -> None:
        """Raises ``NotFound`` if its project does not exist."""
        ...

    async def get_file(self, file_id: str) -> FileRecord | None: ...

    async def get_files(self, file_ids: Sequence[str]) -> list[FileRecord]:
        """The files among ``file_ids`` that exist, in no particular order."""
        ...

    async def list_files(self, project_id: str, limit: int, offset: int = 0) -> list[FileRecord]: ...

    async def set_file_status(
        self,
        file_id: str,
        status: FileStatus,
        *,
        updated_at: str,
        reason: str | None = None,
    ) -> FileRecord:
        """Moves the file as ``FILE_TRANSITIONS`` allows (else ``IllegalTransition``).

        INDEXING stamps ``indexing_started_at``; FAILED keeps ``reason``; READY is reached
        through ``put_chunks`` only, so a READY file always has its chunks.
        """
        ...

    async def put_chunks(self, file_id: str, chunks: Sequence[str], *, updated_at: str) -> FileRecord:
        """Replaces the file's chunks and marks it READY with ``chunks_count``, together;
        the file must be INDEXING (else ``IllegalTransition``)."""
        ...

    async def get_chunks(self, file_id: str, *, offset: int = 0, limit: int) -> list[Chunk]: ...

    async def delete_file(self, file_id: str) -> str | None:
        """Deletes the file and its chunks; returns its object key, ``None`` if there was no file."""
        ...

    async def stale_indexing(self, older_than: str) -> list[FileRecord]:
        """Files INDEXING since before ``older_than`` (ISO), oldest first: the sweeper fails them."""
        ...

    # quota ledger
    async def reserve(
        self,
        user_id: str,
        period_key: str,
        limit: int,
        run_id: str,
        *,
        resets_at: str,
        created_at: str,
    ) -> QuotaReservation | QuotaExceeded:
        """Claims one unit of the user's quota for the period, if fewer than ``limit`` are
        reserved or confirmed; atomic however many callers reserve at once, on every backend.
        ``Conflict`` if ``run_id`` has a reservation already."""
        ...

    async def confirm(self, run_id: str, *, updated_at: str) -> QuotaReservation:
        """The run's use counts for good (idempotent); ``NotFound``, or ``IllegalTransition``
        if it was released."""
        ...

    async def release(self, run_id: str, *, updated_at: str) -> bool:
        """Gives a reserved unit back; ``False`` if the run has no reservation still reserved
        (never reserved, already released, or confirmed: a confirmed run is not refunded)."""
        ...

    async def get_reservation(self, run_id: str) -> QuotaReservation | None: ...

    async def usage(self, user_id: str, period_key: str) -> int:
        """Units reserved or confirmed by the user in the period."""
        ...
