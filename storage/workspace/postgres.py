"""Postgres workspace store over asyncpg: its own small pool, its tables in their own schema."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from ..sql.base import StoreErrors
from ..sql.postgres import PostgresDatabase, as_is
from . import ledger_postgres as ledger
from .base import Conflict, NotFound, RunInProgress, WorkspaceStoreError
from .migrations import RUNNER
from .records import (
    ACTIVE_RUN_STATUSES,
    Chunk,
    FileRecord,
    FileStatus,
    Message,
    MessageRole,
    Project,
    QuotaExceeded,
    QuotaReservation,
    Run,
    RunStatus,
    WorkspaceSession,
)
from .rows import (
    CHUNK_COLUMNS,
    FILE_COLUMNS,
    MESSAGE_COLUMNS,
    PROJECT_COLUMNS,
    RUN_COLUMNS,
    SESSION_COLUMNS,
    VISIBLE_ROLES,
    check_page,
    chunk_from_row,
    file_from_row,
    file_sources,
    message_from_row,
    project_from_row,
    run_from_row,
    run_sources,
    session_from_row,
    transition,
)

__all__ = ["PostgresWorkspaceStore"]

log = logging.getLogger(__name__)

_ACTIVE = sorted(status.value for status in ACTIVE_RUN_STATUSES)
_ONE_ACTIVE_INDEX = "workspace_runs_one_active"

_APPEND_MESSAGE = f"""
INSERT INTO workspace_messages ({MESSAGE_COLUMNS})
SELECT $1, $2, $3, $4, $5, $6, COALESCE(MAX(seq), 0) + 1 FROM workspace_messages WHERE session_id = $2
RETURNING {MESSAGE_COLUMNS}
"""

_RUNS_OF_PROJECT = (
    "SELECT r.id FROM workspace_runs AS r JOIN workspace_sessions AS s ON s.id = r.session_id "
    "WHERE s.project_id = $2"
)
_RUNS_OF_SESSION = "SELECT id FROM workspace_runs WHERE session_id = $2"


class PostgresWorkspaceStore(PostgresDatabase):
    """A bounded pool (``max_connections``) whatever the number of live sessions.

    Every connection's ``search_path`` is the workspace's schema, so the SQL names its
    tables unqualified and nothing lands in ``public``. Conditional updates (``WHERE status
    IN (...)``) carry the transition checks, so a concurrent writer waits for the first to
    commit, re-reads the row and then matches nothing. The only row locks taken on purpose:
    the quota counter row (``ledger_postgres``), a session's row while a message takes its
    ``seq``, and a project's row while it is deleted. One active run per session is a
    partial unique index, so it holds across every gateway without a lock.
    """

    _runner = RUNNER
    _errors = StoreErrors(WorkspaceStoreError, Conflict, NotFound)
    _log = log

    # projects

    async def create_project(self, project: Project) -> None:
        await self._execute(
            f"create_project {project.id}",
            f"INSERT INTO workspace_projects ({PROJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            project.id,
            project.owner_id,
            project.name,
            project.fiscal_year,
            project.description,
            project.status,
            project.created_at,
            project.updated_at,
            project.github,
        )

    async def get_project(self, project_id: str) -> Project | None:
        row = await self._fetchrow(
            "get_project", f"SELECT {PROJECT_COLUMNS} FROM workspace_projects WHERE id = $1", project_id
        )
        return None if row is None else project_from_row(row, as_is)

    async def list_projects(self, owner_id: str, limit: int, offset: int = 0) -> list[Project]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_projects",
            f"SELECT {PROJECT_COLUMNS} FROM workspace_projects WHERE owner_id = $1 "
            "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
            owner_id,
            limit,
            offset,
        )
        return [project_from_row(row, as_is) for row in rows]

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
        row = await self._fetchrow(
            f"update_project {project_id}",
            "UPDATE workspace_projects SET name = COALESCE($2, name), "
            "fiscal_year = COALESCE($3, fiscal_year), description = COALESCE($4, description), "
            f"status = COALESCE($5, status), updated_at = $6 WHERE id = $1 RETURNING {PROJECT_COLUMNS}",
            project_id,
            name,
            fiscal_year,
            description,
            status,
            updated_at,
        )
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return project_from_row(row, as_is)

    async def set_project_github(
        self, project_id: str, github: dict[str, Any] | None, *, updated_at: str
    ) -> Project:
        row = await self._fetchrow(
            f"set_project_github {project_id}",
            "UPDATE workspace_projects SET github = $2, updated_at = $3 WHERE id = $1 "
            f"RETURNING {PROJECT_COLUMNS}",
            project_id,
            github,
            updated_at,
        )
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return project_from_row(row, as_is)

    async def delete_project(self, project_id: str) -> list[str] | None:
        async with self._transaction(f"delete_project {project_id}") as conn:
            # Locks the project first: a file uploaded meanwhile waits, then fails its reference.
            found = await conn.fetchval(
                "SELECT id FROM workspace_projects WHERE id = $1 FOR UPDATE", project_id
            )
            if found is None:
                return None
            keys = await conn.fetch(
                "SELECT object_key FROM workspace_files WHERE project_id = $1 ORDER BY created_at, id",
                project_id,
            )
            await ledger.release_runs(conn, _RUNS_OF_PROJECT, project_id)
            # Sessions (their messages and runs) and files (their chunks) go by ON DELETE CASCADE.
            await conn.execute("DELETE FROM workspace_projects WHERE id = $1", project_id)
        return [str(row[0]) for row in keys]

    # sessions

    async def create_session(self, session: WorkspaceSession) -> None:
        await self._execute(
            f"create_session {session.id}",
            f"INSERT INTO workspace_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            session.id,
            session.project_id,
            session.owner_id,
            session.type,
            session.title,
            session.status,
            session.created_at,
            session.updated_at,
        )

    async def get_session(self, session_id: str) -> WorkspaceSession | None:
        row = await self._fetchrow(
            "get_session", f"SELECT {SESSION_COLUMNS} FROM workspace_sessions WHERE id = $1", session_id
        )
        return None if row is None else session_from_row(row)

    async def list_sessions(self, project_id: str, limit: int, offset: int = 0) -> list[WorkspaceSession]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_sessions",
            f"SELECT {SESSION_COLUMNS} FROM workspace_sessions WHERE project_id = $1 "
            "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
            project_id,
            limit,
            offset,
        )
        return [session_from_row(row) for row in rows]

    async def update_session(
        self,
        session_id: str,
        *,
        updated_at: str,
        title: str | None = None,
        status: str | None = None,
    ) -> WorkspaceSession:
        row = await self._fetchrow(
            f"update_session {session_id}",
            "UPDATE workspace_sessions SET title = COALESCE($2, title), status = COALESCE($3, status), "
            f"updated_at = $4 WHERE id = $1 RETURNING {SESSION_COLUMNS}",
            session_id,
            title,
            status,
            updated_at,
        )
        if row is None:
            raise NotFound(f"session {session_id} does not exist")
        return session_from_row(row)

    async def delete_session(self, session_id: str) -> bool:
        async with self._transaction(f"delete_session {session_id}") as conn:
            await ledger.release_runs(conn, _RUNS_OF_SESSION, session_id)
            deleted = await conn.fetchval(
                "DELETE FROM workspace_sessions WHERE id = $1 RETURNING id", session_id
            )
        return deleted is not None

    # messages

    async def append_message(self, message: Message) -> Message:
        async with self._transaction(f"append_message {message.id}") as conn:
            # The session's row serialises its appends: each takes the next seq in turn.
            found = await conn.fetchval(
                "SELECT id FROM workspace_sessions WHERE id = $1 FOR UPDATE", message.session_id
            )
            if found is None:
                raise NotFound(f"session {message.session_id} does not exist")
            row = await conn.fetchrow(
                _APPEND_MESSAGE,
                message.id,
                message.session_id,
                MessageRole(message.role).value,
                message.content,
                message.run_id,
                message.created_at,
            )
        assert row is not None  # INSERT ... SELECT over an aggregate always yields one row
        return message_from_row(row)

    async def get_message(self, message_id: str) -> Message | None:
        row = await self._fetchrow(
            "get_message", f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages WHERE id = $1", message_id
        )
        return None if row is None else message_from_row(row)

    async def history(self, session_id: str, limit: int) -> list[Message]:
        check_page(limit, 0)
        rows = await self._fetch(
            "history",
            f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages "
            "WHERE session_id = $1 AND role = ANY($2::text[]) ORDER BY seq DESC LIMIT $3",
            session_id,
            list(VISIBLE_ROLES),
            limit,
        )
        return [message_from_row(row) for row in reversed(rows)]

    async def list_messages(self, session_id: str, *, after_seq: int = 0, limit: int) -> list[Message]:
        check_page(limit, 0)
        rows = await self._fetch(
            "list_messages",
            f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages WHERE session_id = $1 AND seq > $2 "
            "ORDER BY seq LIMIT $3",
            session_id,
            after_seq,
            limit,
        )
        return [message_from_row(row) for row in rows]

    # runs

    async def create_run(self, run: Run) -> None:
        try:
            await self._execute(
                f"create_run {run.id}",
                f"INSERT INTO workspace_runs ({RUN_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                run.id,
                run.session_id,
                run.owner_id,
                RunStatus(run.status).value,
                run.input,
                run.type,
                list(run.selected_file_ids),
                run.created_at,
                run.result,
                run.error,
                run.started_at,
                run.finished_at,
            )
        except Conflict as exc:
            cause = exc.__cause__
            if not isinstance(cause, asyncpg.UniqueViolationError):
                raise
            if cause.constraint_name != _ONE_ACTIVE_INDEX:
                raise
            active = await self.running_run(run.session_id)
            # The other run may have finished in between: still a conflict, named as best we can.
            raise RunInProgress(run.session_id, active.id if active else "unknown") from None

    async def get_run(self, run_id: str) -> Run | None:
        row = await self._fetchrow(
            "get_run", f"SELECT {RUN_COLUMNS} FROM workspace_runs WHERE id = $1", run_id
        )
        return None if row is None else run_from_row(row, as_is)

    async def running_run(self, session_id: str) -> Run | None:
        row = await self._fetchrow(
            "running_run",
            f"SELECT {RUN_COLUMNS} FROM workspace_runs WHERE session_id = $1 AND status = ANY($2::text[])",
            session_id,
            _ACTIVE,
        )
        return None if row is None else run_from_row(row, as_is)

    async def update_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        at: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Run:
        target = RunStatus(status)
        started = at if target is RunStatus.RUNNING else None
        finished = None if target in ACTIVE_RUN_STATUSES else at
        async with self._transaction(f"update_run {run_id}") as conn:
            row = await conn.fetchrow(
                "UPDATE workspace_runs SET status = $2, started_at = COALESCE($3, started_at), "
                "finished_at = COALESCE($4, finished_at), result = COALESCE($5, result), "
                "error = COALESCE($6, error) WHERE id = $1 AND status = ANY($7::text[]) "
                f"RETURNING {RUN_COLUMNS}",
                run_id,
                target.value,
                started,
                finished,
                result,
                error,
                run_sources(target),
            )
            if row is None:
                current = await conn.fetchval("SELECT status FROM workspace_runs WHERE id = $1", run_id)
                if current is None:
                    raise NotFound(f"run {run_id} does not exist")
                raise transition("run", run_id, RunStatus(current), target)
        return run_from_row(row, as_is)

    async def unfinished_runs(self, created_before: str) -> list[Run]:
        rows = await self._fetch(
            "unfinished_runs",
            f"SELECT {RUN_COLUMNS} FROM workspace_runs "
            "WHERE status = ANY($1::text[]) AND created_at < $2 ORDER BY created_at, id",
            _ACTIVE,
            created_before,
        )
        return [run_from_row(row, as_is) for row in rows]

    # files

    async def create_file(self, file: FileRecord) -> None:
        await self._execute(
            f"create_file {file.id}",
            f"INSERT INTO workspace_files ({FILE_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            file.id,
            file.project_id,
            file.owner_id,
            file.name,
            file.content_type,
            file.size,
            file.object_key,
            FileStatus(file.status).value,
            file.created_at,
            file.updated_at,
            file.reason,
            file.chunks_count,
            file.indexing_started_at,
        )

    async def get_file(self, file_id: str) -> FileRecord | None:
        row = await self._fetchrow(
            "get_file", f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE id = $1", file_id
        )
        return None if row is None else file_from_row(row)

    async def get_files(self, file_ids: Sequence[str]) -> list[FileRecord]:
        if not file_ids:
            return []
        rows = await self._fetch(
            "get_files",
            f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE id = ANY($1::text[])",
            list(dict.fromkeys(file_ids)),
        )
        return [file_from_row(row) for row in rows]

    async def list_files(self, project_id: str, limit: int, offset: int = 0) -> list[FileRecord]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_files",
            f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE project_id = $1 "
            "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
            project_id,
            limit,
            offset,
        )
        return [file_from_row(row) for row in rows]

    async def set_file_status(
        self,
        file_id: str,
        status: FileStatus,
        *,
        updated_at: str,
        reason: str | None = None,
    ) -> FileRecord:
        target = FileStatus(status)
        if target is FileStatus.READY:
            raise ValueError("a file becomes READY through put_chunks, with its chunks")
        async with self._transaction(f"set_file_status {file_id}") as conn:
            row = await conn.fetchrow(
                "UPDATE workspace_files SET status = $2, reason = $3, chunks_count = 0, updated_at = $4, "
                "indexing_started_at = COALESCE($5, indexing_started_at) "
                f"WHERE id = $1 AND status = ANY($6::text[]) RETURNING {FILE_COLUMNS}",
                file_id,
                target.value,
                reason if target is FileStatus.FAILED else None,
                updated_at,
                updated_at if target is FileStatus.INDEXING else None,
                file_sources(target),
            )
            if row is None:
                current = await conn.fetchval("SELECT status FROM workspace_files WHERE id = $1", file_id)
                if current is None:
                    raise NotFound(f"file {file_id} does not exist")
                raise transition("file", file_id, FileStatus(current), target)
            # Chunks exist only while READY: a file being indexed again, or failed, has none.
            await conn.execute("DELETE FROM workspace_file_chunks WHERE file_id = $1", file_id)
        return file_from_row(row)

    async def put_chunks(self, file_id: str, chunks: Sequence[str], *, updated_at: str) -> FileRecord:
        async with self._transaction(f"put_chunks {file_id}") as conn:
            row = await conn.fetchrow(
                "UPDATE workspace_files SET status = $2, reason = NULL, chunks_count = $3, updated_at = $4 "
                f"WHERE id = $1 AND status = $5 RETURNING {FILE_COLUMNS}",
                file_id,
                FileStatus.READY.value,
                len(chunks),
                updated_at,
                FileStatus.INDEXING.value,
            )
            if row is None:
                current = await conn.fetchval("SELECT status FROM workspace_files WHERE id = $1", file_id)
                if current is None:
                    raise NotFound(f"file {file_id} does not exist")
                raise transition("file", file_id, FileStatus(current), FileStatus.READY)
            await conn.execute("DELETE FROM workspace_file_chunks WHERE file_id = $1", file_id)
            # One round trip for all the chunks, whatever their number.
            await conn.execute(
                f"INSERT INTO workspace_file_chunks ({CHUNK_COLUMNS}) "
                "SELECT $1, c.ordinality - 1, c.text FROM unnest($2::text[]) WITH ORDINALITY AS c(text)",
                file_id,
                list(chunks),
            )
        return file_from_row(row)

    async def get_chunks(self, file_id: str, *, offset: int = 0, limit: int) -> list[Chunk]:
        check_page(limit, offset)
        rows = await self._fetch(
            "get_chunks",
            f"SELECT {CHUNK_COLUMNS} FROM workspace_file_chunks WHERE file_id = $1 "
            "ORDER BY chunk_index LIMIT $2 OFFSET $3",
            file_id,
            limit,
            offset,
        )
        return [chunk_from_row(row) for row in rows]

    async def delete_file(self, file_id: str) -> str | None:
        row = await self._fetchrow(
            f"delete_file {file_id}",
            "DELETE FROM workspace_files WHERE id = $1 RETURNING object_key",
            file_id,
        )
        return None if row is None else str(row[0])

    async def stale_indexing(self, older_than: str) -> list[FileRecord]:
        rows = await self._fetch(
            "stale_indexing",
            f"SELECT {FILE_COLUMNS} FROM workspace_files "
            "WHERE status = $1 AND indexing_started_at < $2 ORDER BY indexing_started_at, id",
            FileStatus.INDEXING.value,
            older_than,
        )
        return [file_from_row(row) for row in rows]

    # quota ledger (ledger_postgres.py: the counter row and why it is atomic)

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
        async with self._transaction(f"reserve {run_id}") as conn:
            return await ledger.reserve(
                conn, user_id, period_key, limit, run_id, resets_at=resets_at, created_at=created_at
            )

    async def confirm(self, run_id: str, *, updated_at: str) -> QuotaReservation:
        async with self._transaction(f"confirm {run_id}") as conn:
            return await ledger.confirm(conn, run_id, updated_at=updated_at)

    async def release(self, run_id: str, *, updated_at: str) -> bool:
        async with self._transaction(f"release {run_id}") as conn:
            return await ledger.release(conn, run_id, updated_at=updated_at)

    async def get_reservation(self, run_id: str) -> QuotaReservation | None:
        async with self._connection("get_reservation") as conn:
            return await ledger.get_reservation(conn, run_id)

    async def usage(self, user_id: str, period_key: str) -> int:
        async with self._connection("usage") as conn:
            return await ledger.usage(conn, user_id, period_key)
