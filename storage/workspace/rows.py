"""How workspace records map to table rows: shared by both backends (no I/O here).

Both drivers return rows that index by position (``sqlite3`` tuples, ``asyncpg.Record``), so
the column lists below fix the order once. JSON columns arrive decoded from Postgres (a
jsonb codec) and as text from SQLite; each backend passes its own ``load``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import orjson

from .base import IllegalTransition, WorkspaceStoreError
from .records import (
    FILE_TRANSITIONS,
    RUN_TRANSITIONS,
    Chunk,
    FileRecord,
    FileStatus,
    Message,
    MessageRole,
    Project,
    QuotaReservation,
    ReservationState,
    Run,
    RunStatus,
    WorkspaceSession,
)

__all__ = [
    "CHUNK_COLUMNS",
    "FILE_COLUMNS",
    "MESSAGE_COLUMNS",
    "PROJECT_COLUMNS",
    "RESERVATION_COLUMNS",
    "RUN_COLUMNS",
    "SESSION_COLUMNS",
    "VISIBLE_ROLES",
    "check_page",
    "chunk_from_row",
    "dump_json",
    "file_from_row",
    "file_sources",
    "load_json",
    "message_from_row",
    "project_from_row",
    "released_reservation",
    "reservation_from_row",
    "run_from_row",
    "run_sources",
    "session_from_row",
    "sources_of",
    "transition",
]

Row = Sequence[Any]
Load = Callable[[Any], Any]
S = TypeVar("S", RunStatus, FileStatus)

PROJECT_COLUMNS = "id, owner_id, name, fiscal_year, description, status, created_at, updated_at, github"
SESSION_COLUMNS = "id, project_id, owner_id, type, title, status, created_at, updated_at"
MESSAGE_COLUMNS = "id, session_id, role, content, run_id, created_at, seq"
RUN_COLUMNS = (
    "id, session_id, owner_id, status, input, type, selected_file_ids, created_at, "
    "result, error, started_at, finished_at"
)
FILE_COLUMNS = (
    "id, project_id, owner_id, name, content_type, size, object_key, status, created_at, "
    "updated_at, reason, chunks_count, indexing_started_at"
)
CHUNK_COLUMNS = "file_id, chunk_index, text"
RESERVATION_COLUMNS = "run_id, user_id, period_key, state, created_at, updated_at"

# What the history shows; SYSTEM records (e.g. why a run failed) never leave the server.
VISIBLE_ROLES: tuple[str, ...] = (MessageRole.USER.value, MessageRole.ASSISTANT.value)


def dump_json(value: object, what: str) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise WorkspaceStoreError(f"{what} is not JSON-serialisable: {exc}") from exc


def load_json(data: str | bytes) -> Any:
    return orjson.loads(data)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def project_from_row(row: Row, load: Load) -> Project:
    return Project(
        id=str(row[0]),
        owner_id=str(row[1]),
        name=str(row[2]),
        fiscal_year=str(row[3]),
        description=str(row[4]),
        status=str(row[5]),
        created_at=str(row[6]),
        updated_at=str(row[7]),
        github=None if row[8] is None else load(row[8]),
    )


def session_from_row(row: Row) -> WorkspaceSession:
    return WorkspaceSession(
        id=str(row[0]),
        project_id=str(row[1]),
        owner_id=str(row[2]),
        type=str(row[3]),
        title=_opt(row[4]),
        status=str(row[5]),
        created_at=str(row[6]),
        updated_at=str(row[7]),
    )


def message_from_row(row: Row) -> Message:
    return Message(
        id=str(row[0]),
        session_id=str(row[1]),
        role=MessageRole(row[2]),
        content=str(row[3]),
        run_id=_opt(row[4]),
        created_at=str(row[5]),
        seq=int(row[6]),
    )


def run_from_row(row: Row, load: Load) -> Run:
    return Run(
        id=str(row[0]),
        session_id=str(row[1]),
        owner_id=str(row[2]),
        status=RunStatus(row[3]),
        input=str(row[4]),
        type=str(row[5]),
        selected_file_ids=tuple(str(item) for item in load(row[6])),
        created_at=str(row[7]),
        result=None if row[8] is None else load(row[8]),
        error=_opt(row[9]),
        started_at=_opt(row[10]),
        finished_at=_opt(row[11]),
    )


def file_from_row(row: Row) -> FileRecord:
    return FileRecord(
        id=str(row[0]),
        project_id=str(row[1]),
        owner_id=str(row[2]),
        name=str(row[3]),
        content_type=str(row[4]),
        size=int(row[5]),
        object_key=str(row[6]),
        status=FileStatus(row[7]),
        created_at=str(row[8]),
        updated_at=str(row[9]),
        reason=_opt(row[10]),
        chunks_count=int(row[11]),
        indexing_started_at=_opt(row[12]),
    )


def chunk_from_row(row: Row) -> Chunk:
    return Chunk(file_id=str(row[0]), index=int(row[1]), text=str(row[2]))


def reservation_from_row(row: Row) -> QuotaReservation:
    return QuotaReservation(
        run_id=str(row[0]),
        user_id=str(row[1]),
        period_key=str(row[2]),
        state=ReservationState(row[3]),
        created_at=str(row[4]),
        updated_at=str(row[5]),
    )


def sources_of(target: S, table: Mapping[S, Collection[S]]) -> list[str]:
    """The states from which ``target`` may be reached: the ``WHERE status IN (...)`` of a
    conditional update, so the check and the change are one statement."""
    return sorted(state.value for state, targets in table.items() if target in targets)


def transition(what: str, record_id: str, current: S, target: S) -> IllegalTransition:
    return IllegalTransition(what, record_id, current.value, target.value)


def run_sources(target: RunStatus) -> list[str]:
    return sources_of(target, RUN_TRANSITIONS)


def file_sources(target: FileStatus) -> list[str]:
    return sources_of(target, FILE_TRANSITIONS)


def released_reservation(run_id: str) -> IllegalTransition:
    """A released unit is not charged afterwards: the run that gave it back is over."""
    return IllegalTransition(
        "quota reservation", run_id, ReservationState.RELEASED.value, ReservationState.CONFIRMED.value
    )


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
