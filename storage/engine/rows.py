"""How engine records map to table rows: shared by both backends (no I/O here).

Both drivers return rows that index by position (``sqlite3`` tuples, ``asyncpg.Record``), so
the column lists below fix the order once. JSON columns arrive decoded from Postgres (a
jsonb codec) and as text from SQLite; each backend passes its own ``load``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .base import EngineStoreError
from .records import (
    BomLine,
    Design,
    DesignSessionRecord,
    Eco,
    Item,
    ItemKind,
    LifecycleState,
    Program,
    ProgramMember,
    StoredEvent,
)

__all__ = [
    "BOM_COLUMNS",
    "DESIGN_COLUMNS",
    "ECO_COLUMNS",
    "EVENT_COLUMNS",
    "ITEM_COLUMNS",
    "ITEM_INSERT_COLUMNS",
    "MEMBER_COLUMNS",
    "PROGRAM_COLUMNS",
    "SESSION_COLUMNS",
    "bom_line_from_row",
    "check_events",
    "check_page",
    "design_from_row",
    "dump_json",
    "eco_from_row",
    "event_from_row",
    "item_from_row",
    "item_row",
    "load_json",
    "member_from_row",
    "name_key",
    "program_from_row",
    "search_key",
    "session_from_row",
]

Row = Sequence[Any]

PROGRAM_COLUMNS = "id, owner_id, name, description, created_at"
MEMBER_COLUMNS = "program_id, user_id, role"
DESIGN_COLUMNS = "id, program_id, name, lifecycle_state, created_at, updated_at"
SESSION_COLUMNS = (
    "id, user_id, program_id, design_id, ai_chat_session_id, title, stage, status, "
    "artifacts, pending_run, created_at, updated_at, revision, doc"
)
EVENT_COLUMNS = "session_id, event_id, run_id, data, created_at"
ITEM_COLUMNS = "id, owner_id, program_id, kind, item_number, name, description, attributes, created_at"
# Stored beside the record's fields: the number as an integer (ordering by it sorts P-10000
# after P-9999) and the folded name that search matches.
ITEM_INSERT_COLUMNS = f"{ITEM_COLUMNS}, seq, name_key"
BOM_COLUMNS = "id, design_id, parent_item_id, child_item_id, quantity, position"
ECO_COLUMNS = "id, eco_number, design_id, session_id, owner_id, title, changes, created_at"


def dump_json(value: object, what: str) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise EngineStoreError(f"{what} is not JSON-serialisable: {exc}") from exc


def load_json(data: str | bytes) -> Any:
    return orjson.loads(data)


def program_from_row(row: Row) -> Program:
    return Program(
        id=str(row[0]),
        owner_id=str(row[1]),
        name=str(row[2]),
        description=str(row[3]),
        created_at=str(row[4]),
    )


def member_from_row(row: Row) -> ProgramMember:
    return ProgramMember(program_id=str(row[0]), user_id=str(row[1]), role=str(row[2]))


def design_from_row(row: Row) -> Design:
    return Design(
        id=str(row[0]),
        program_id=str(row[1]),
        name=str(row[2]),
        lifecycle_state=LifecycleState(row[3]),
        created_at=str(row[4]),
        updated_at=str(row[5]),
    )


def session_from_row(row: Row, load: Callable[[Any], Any]) -> DesignSessionRecord:
    return DesignSessionRecord(
        id=str(row[0]),
        user_id=str(row[1]),
        program_id=str(row[2]),
        design_id=None if row[3] is None else str(row[3]),
        ai_chat_session_id=None if row[4] is None else str(row[4]),
        title=str(row[5]),
        stage=str(row[6]),
        status=str(row[7]),
        artifacts=load(row[8]),
        pending_run=None if row[9] is None else load(row[9]),
        created_at=str(row[10]),
        updated_at=str(row[11]),
        revision=int(row[12]),
        doc=None if row[13] is None else bytes(row[13]),
    )


def event_from_row(row: Row) -> StoredEvent:
    return StoredEvent(
        session_id=str(row[0]),
        event_id=int(row[1]),
        run_id=str(row[2]),
        data=bytes(row[3]),
        created_at=str(row[4]),
    )


def check_events(session_id: str, events: Sequence[StoredEvent]) -> None:
    """Events are appended to one session's log; one naming another session is a caller bug."""
    for event in events:
        if event.session_id != session_id:
            raise ValueError(
                f"event {event.event_id} belongs to session {event.session_id}, not {session_id}"
            )


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")


def name_key(name: str) -> str:
    """What search matches a name against: folded here, in Python, so that both backends
    fold alike and beyond ASCII (SQLite's ``lower`` knows only ASCII)."""
    return name.casefold()


def search_key(query: str) -> str:
    return query.strip().casefold()


def item_row(item: Item, attributes: object) -> tuple[object, ...]:
    """The values of ``ITEM_INSERT_COLUMNS``; ``attributes`` as the backend's driver takes JSON."""
    seq = int(item.item_number.rpartition("-")[2])
    return (
        item.id,
        item.owner_id,
        item.program_id,
        ItemKind(item.kind).value,
        item.item_number,
        item.name,
        item.description,
        attributes,
        item.created_at,
        seq,
        name_key(item.name),
    )


def item_from_row(row: Row, load: Callable[[Any], Any]) -> Item:
    return Item(
        id=str(row[0]),
        owner_id=str(row[1]),
        program_id=str(row[2]),
        kind=ItemKind(row[3]),
        item_number=str(row[4]),
        name=str(row[5]),
        description=str(row[6]),
        attributes=load(row[7]),
        created_at=str(row[8]),
    )


def bom_line_from_row(row: Row) -> BomLine:
    return BomLine(
        id=str(row[0]),
        design_id=str(row[1]),
        parent_item_id=None if row[2] is None else str(row[2]),
        child_item_id=str(row[3]),
        quantity=int(row[4]),
        position=int(row[5]),
    )


def eco_from_row(row: Row, load: Callable[[Any], Any]) -> Eco:
    return Eco(
        id=str(row[0]),
        eco_number=str(row[1]),
        design_id=str(row[2]),
        session_id=str(row[3]),
        owner_id=str(row[4]),
        title=str(row[5]),
        changes=load(row[6]),
        created_at=str(row[7]),
    )
