"""Embedded SQLite workspace store: its own file (``workspace.sqlite3``) in the data directory."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.sql.base import StoreErrors
from storage.sql.sqlite import SYNCHRONOUS_MODES, SqliteDatabase

from . import ledger_sqlite as ledger
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
    dump_json,
    file_from_row,
    file_sources,
    load_json,
    message_from_row,
    project_from_row,
    run_from_row,
    run_sources,
    session_from_row,
    transition,
)

__all__ = ["SYNCHRONOUS_MODES", "SqliteWorkspaceStore"]

log = logging.getLogger(__name__)

# Ids per IN (...) list: far below SQLite's bound on host parameters.
_IN_BATCH = 500

_ACTIVE = tuple(sorted(status.value for status in ACTIVE_RUN_STATUSES))

_APPEND_MESSAGE = f"""
INSERT INTO workspace_messages ({MESSAGE_COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, COALESCE(MAX(seq), 0) + 1 FROM workspace_messages WHERE session_id = ?
RETURNING {MESSAGE_COLUMNS}
"""

_RUNS_OF_PROJECT = """
SELECT r.id FROM workspace_runs AS r JOIN workspace_sessions AS s ON s.id = r.session_id
WHERE s.project_id = ?
"""

_RUNS_OF_SESSION = "SELECT id FROM workspace_runs WHERE session_id = ?"


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _json_text(value: object, what: str) -> str:
    return dump_json(value, what).decode()


async def _rows(db: aiosqlite.Connection, sql: str, params: Sequence[object]) -> list[Any]:
    return list(await db.execute_fetchall(sql, params))


class SqliteWorkspaceStore(SqliteDatabase):
    """One connection and one writer: SQLite serialises writes anyway.

    Reads take the same lock as writes because the connection is shared: a read issued
    while another caller's transaction is open would see its uncommitted rows. Several
    stores (processes) on one file stay correct: every write is ``BEGIN IMMEDIATE``, so
    read-then-write sequences (the quota ledger, one active run per session) cannot
    interleave. ``synchronous`` is FULL by default so a committed write survives power loss.
    """

    _runner = RUNNER
    _errors = StoreErrors(WorkspaceStoreError, Conflict, NotFound)
    _log = log

    # projects

    async def create_project(self, project: Project) -> None:
        github = None if project.github is None else _json_text(project.github, "github")
        async with self._write(f"create_project {project.id}") as db:
            await db.execute(
                f"INSERT INTO workspace_projects ({PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    project.id,
                    project.owner_id,
                    project.name,
                    project.fiscal_year,
                    project.description,
                    project.status,
                    project.created_at,
                    project.updated_at,
                    github,
                ),
            )

    async def get_project(self, project_id: str) -> Project | None:
        rows = await self._fetch(
            "get_project",
            f"SELECT {PROJECT_COLUMNS} FROM workspace_projects WHERE id = ?",
            (project_id,),
        )
        return project_from_row(rows[0], load_json) if rows else None

    async def list_projects(self, owner_id: str, limit: int, offset: int = 0) -> list[Project]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_projects",
            f"SELECT {PROJECT_COLUMNS} FROM workspace_projects WHERE owner_id = ? "
            "ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (owner_id, limit, offset),
        )
        return [project_from_row(row, load_json) for row in rows]

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
        async with self._write(f"update_project {project_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_projects SET name = COALESCE(?, name), "
                "fiscal_year = COALESCE(?, fiscal_year), description = COALESCE(?, description), "
                f"status = COALESCE(?, status), updated_at = ? WHERE id = ? RETURNING {PROJECT_COLUMNS}",
                (name, fiscal_year, description, status, updated_at, project_id),
            )
        if not rows:
            raise NotFound(f"project {project_id} does not exist")
        return project_from_row(rows[0], load_json)

    async def set_project_github(
        self, project_id: str, github: dict[str, Any] | None, *, updated_at: str
    ) -> Project:
        value = None if github is None else _json_text(github, "github")
        async with self._write(f"set_project_github {project_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_projects SET github = ?, updated_at = ? WHERE id = ? "
                f"RETURNING {PROJECT_COLUMNS}",
                (value, updated_at, project_id),
            )
        if not rows:
            raise NotFound(f"project {project_id} does not exist")
        return project_from_row(rows[0], load_json)

    async def delete_project(self, project_id: str) -> list[str] | None:
        async with self._write(f"delete_project {project_id}") as db:
            keys = await _rows(
                db,
                "SELECT object_key FROM workspace_files WHERE project_id = ? ORDER BY created_at, id",
                (project_id,),
            )
            await ledger.release_runs(db, _RUNS_OF_PROJECT, (project_id,))
            # Sessions (their messages and runs) and files (their chunks) go by ON DELETE CASCADE.
            cursor = await db.execute("DELETE FROM workspace_projects WHERE id = ?", (project_id,))
            deleted = cursor.rowcount
        return [str(row[0]) for row in keys] if deleted > 0 else None

    # sessions

    async def create_session(self, session: WorkspaceSession) -> None:
        async with self._write(f"create_session {session.id}") as db:
            await db.execute(
                f"INSERT INTO workspace_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.id,
                    session.project_id,
                    session.owner_id,
                    session.type,
                    session.title,
                    session.status,
                    session.created_at,
                    session.updated_at,
                ),
            )

    async def get_session(self, session_id: str) -> WorkspaceSession | None:
        rows = await self._fetch(
            "get_session",
            f"SELECT {SESSION_COLUMNS} FROM workspace_sessions WHERE id = ?",
            (session_id,),
        )
        return session_from_row(rows[0]) if rows else None

    async def list_sessions(self, project_id: str, limit: int, offset: int = 0) -> list[WorkspaceSession]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_sessions",
            f"SELECT {SESSION_COLUMNS} FROM workspace_sessions WHERE project_id = ? "
            "ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (project_id, limit, offset),
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
        async with self._write(f"update_session {session_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_sessions SET title = COALESCE(?, title), "
                f"status = COALESCE(?, status), updated_at = ? WHERE id = ? RETURNING {SESSION_COLUMNS}",
                (title, status, updated_at, session_id),
            )
        if not rows:
            raise NotFound(f"session {session_id} does not exist")
        return session_from_row(rows[0])

    async def delete_session(self, session_id: str) -> bool:
        async with self._write(f"delete_session {session_id}") as db:
            await ledger.release_runs(db, _RUNS_OF_SESSION, (session_id,))
            cursor = await db.execute("DELETE FROM workspace_sessions WHERE id = ?", (session_id,))
            deleted = cursor.rowcount
        return deleted > 0

    # messages

    async def append_message(self, message: Message) -> Message:
        async with self._write(f"append_message {message.id}") as db:
            rows = await _rows(
                db,
                _APPEND_MESSAGE,
                (
                    message.id,
                    message.session_id,
                    MessageRole(message.role).value,
                    message.content,
                    message.run_id,
                    message.created_at,
                    message.session_id,
                ),
            )
        return message_from_row(rows[0])

    async def get_message(self, message_id: str) -> Message | None:
        rows = await self._fetch(
            "get_message",
            f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages WHERE id = ?",
            (message_id,),
        )
        return message_from_row(rows[0]) if rows else None

    async def history(self, session_id: str, limit: int) -> list[Message]:
        check_page(limit, 0)
        rows = await self._fetch(
            "history",
            f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages "
            f"WHERE session_id = ? AND role IN ({_marks(len(VISIBLE_ROLES))}) "
            "ORDER BY seq DESC LIMIT ?",
            (session_id, *VISIBLE_ROLES, limit),
        )
        return [message_from_row(row) for row in reversed(rows)]

    async def list_messages(self, session_id: str, *, after_seq: int = 0, limit: int) -> list[Message]:
        check_page(limit, 0)
        rows = await self._fetch(
            "list_messages",
            f"SELECT {MESSAGE_COLUMNS} FROM workspace_messages WHERE session_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (session_id, after_seq, limit),
        )
        return [message_from_row(row) for row in rows]

    # runs

    async def create_run(self, run: Run) -> None:
        selected = _json_text(list(run.selected_file_ids), "selected_file_ids")
        result = None if run.result is None else _json_text(run.result, "result")
        async with self._write(f"create_run {run.id}") as db:
            if RunStatus(run.status) in ACTIVE_RUN_STATUSES:
                active = await _rows(
                    db,
                    "SELECT id FROM workspace_runs "
                    f"WHERE session_id = ? AND status IN ({_marks(len(_ACTIVE))})",
                    (run.session_id, *_ACTIVE),
                )
                if active:
                    raise RunInProgress(run.session_id, str(active[0][0]))
            await db.execute(
                f"INSERT INTO workspace_runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.session_id,
                    run.owner_id,
                    RunStatus(run.status).value,
                    run.input,
                    run.type,
                    selected,
                    run.created_at,
                    result,
                    run.error,
                    run.started_at,
                    run.finished_at,
                ),
            )

    async def get_run(self, run_id: str) -> Run | None:
        rows = await self._fetch(
            "get_run", f"SELECT {RUN_COLUMNS} FROM workspace_runs WHERE id = ?", (run_id,)
        )
        return run_from_row(rows[0], load_json) if rows else None

    async def running_run(self, session_id: str) -> Run | None:
        rows = await self._fetch(
            "running_run",
            f"SELECT {RUN_COLUMNS} FROM workspace_runs "
            f"WHERE session_id = ? AND status IN ({_marks(len(_ACTIVE))})",
            (session_id, *_ACTIVE),
        )
        return run_from_row(rows[0], load_json) if rows else None

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
        sources = run_sources(target)
        started = at if target is RunStatus.RUNNING else None
        finished = None if target in ACTIVE_RUN_STATUSES else at
        payload = None if result is None else _json_text(result, "result")
        async with self._write(f"update_run {run_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_runs SET status = ?, started_at = COALESCE(?, started_at), "
                "finished_at = COALESCE(?, finished_at), result = COALESCE(?, result), "
                f"error = COALESCE(?, error) WHERE id = ? AND status IN ({_marks(len(sources))}) "
                f"RETURNING {RUN_COLUMNS}",
                (target.value, started, finished, payload, error, run_id, *sources),
            )
            if not rows:
                current = await _rows(db, "SELECT status FROM workspace_runs WHERE id = ?", (run_id,))
                if not current:
                    raise NotFound(f"run {run_id} does not exist")
                raise transition("run", run_id, RunStatus(current[0][0]), target)
        return run_from_row(rows[0], load_json)

    async def unfinished_runs(self, created_before: str) -> list[Run]:
        rows = await self._fetch(
            "unfinished_runs",
            f"SELECT {RUN_COLUMNS} FROM workspace_runs "
            f"WHERE status IN ({_marks(len(_ACTIVE))}) AND created_at < ? ORDER BY created_at, id",
            (*_ACTIVE, created_before),
        )
        return [run_from_row(row, load_json) for row in rows]

    # files

    async def create_file(self, file: FileRecord) -> None:
        async with self._write(f"create_file {file.id}") as db:
            await db.execute(
                f"INSERT INTO workspace_files ({FILE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                ),
            )

    async def get_file(self, file_id: str) -> FileRecord | None:
        rows = await self._fetch(
            "get_file", f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE id = ?", (file_id,)
        )
        return file_from_row(rows[0]) if rows else None

    async def get_files(self, file_ids: Sequence[str]) -> list[FileRecord]:
        wanted = list(dict.fromkeys(file_ids))
        found: list[FileRecord] = []
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            rows = await self._fetch(
                "get_files",
                f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE id IN ({_marks(len(batch))})",
                batch,
            )
            found.extend(file_from_row(row) for row in rows)
        return found

    async def list_files(self, project_id: str, limit: int, offset: int = 0) -> list[FileRecord]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_files",
            f"SELECT {FILE_COLUMNS} FROM workspace_files WHERE project_id = ? "
            "ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (project_id, limit, offset),
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
        sources = file_sources(target)
        indexing_started = updated_at if target is FileStatus.INDEXING else None
        kept_reason = reason if target is FileStatus.FAILED else None
        async with self._write(f"set_file_status {file_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_files SET status = ?, reason = ?, chunks_count = 0, updated_at = ?, "
                "indexing_started_at = COALESCE(?, indexing_started_at) "
                f"WHERE id = ? AND status IN ({_marks(len(sources))}) RETURNING {FILE_COLUMNS}",
                (target.value, kept_reason, updated_at, indexing_started, file_id, *sources),
            )
            if not rows:
                current = await _rows(db, "SELECT status FROM workspace_files WHERE id = ?", (file_id,))
                if not current:
                    raise NotFound(f"file {file_id} does not exist")
                raise transition("file", file_id, FileStatus(current[0][0]), target)
            # Chunks exist only while READY: a file being indexed again, or failed, has none.
            await db.execute("DELETE FROM workspace_file_chunks WHERE file_id = ?", (file_id,))
        return file_from_row(rows[0])

    async def put_chunks(self, file_id: str, chunks: Sequence[str], *, updated_at: str) -> FileRecord:
        async with self._write(f"put_chunks {file_id}") as db:
            rows = await _rows(
                db,
                "UPDATE workspace_files SET status = ?, reason = NULL, chunks_count = ?, updated_at = ? "
                f"WHERE id = ? AND status = ? RETURNING {FILE_COLUMNS}",
                (FileStatus.READY.value, len(chunks), updated_at, file_id, FileStatus.INDEXING.value),
            )
            if not rows:
                current = await _rows(db, "SELECT status FROM workspace_files WHERE id = ?", (file_id,))
                if not current:
                    raise NotFound(f"file {file_id} does not exist")
                raise transition("file", file_id, FileStatus(current[0][0]), FileStatus.READY)
            await db.execute("DELETE FROM workspace_file_chunks WHERE file_id = ?", (file_id,))
            await db.executemany(
                f"INSERT INTO workspace_file_chunks ({CHUNK_COLUMNS}) VALUES (?, ?, ?)",
                [(file_id, index, text) for index, text in enumerate(chunks)],
            )
        return file_from_row(rows[0])

    async def get_chunks(self, file_id: str, *, offset: int = 0, limit: int) -> list[Chunk]:
        check_page(limit, offset)
        rows = await self._fetch(
            "get_chunks",
            f"SELECT {CHUNK_COLUMNS} FROM workspace_file_chunks WHERE file_id = ? "
            "ORDER BY chunk_index LIMIT ? OFFSET ?",
            (file_id, limit, offset),
        )
        return [chunk_from_row(row) for row in rows]

    async def delete_file(self, file_id: str) -> str | None:
        async with self._write(f"delete_file {file_id}") as db:
            rows = await _rows(
                db, "DELETE FROM workspace_files WHERE id = ? RETURNING object_key", (file_id,)
            )
        return str(rows[0][0]) if rows else None

    async def stale_indexing(self, older_than: str) -> list[FileRecord]:
        rows = await self._fetch(
            "stale_indexing",
            f"SELECT {FILE_COLUMNS} FROM workspace_files "
            "WHERE status = ? AND indexing_started_at < ? ORDER BY indexing_started_at, id",
            (FileStatus.INDEXING.value, older_than),
        )
        return [file_from_row(row) for row in rows]

    # quota ledger (ledger_sqlite.py: the counter row and why it is atomic)

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
        async with self._write(f"reserve {run_id}") as db:
            return await ledger.reserve(
                db, user_id, period_key, limit, run_id, resets_at=resets_at, created_at=created_at
            )

    async def confirm(self, run_id: str, *, updated_at: str) -> QuotaReservation:
        async with self._write(f"confirm {run_id}") as db:
            return await ledger.confirm(db, run_id, updated_at=updated_at)

    async def release(self, run_id: str, *, updated_at: str) -> bool:
        async with self._write(f"release {run_id}") as db:
            return await ledger.release(db, run_id, updated_at=updated_at)

    async def get_reservation(self, run_id: str) -> QuotaReservation | None:
        async with self._read("get_reservation") as db:
            return await ledger.get_reservation(db, run_id)

    async def usage(self, user_id: str, period_key: str) -> int:
        async with self._read("usage") as db:
            return await ledger.usage(db, user_id, period_key)
