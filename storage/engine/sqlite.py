"""Embedded SQLite engine store: its own file (``engine.sqlite3``) in the data directory."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from storage.clock import utc_now_iso
from storage.sql.base import StoreErrors
from storage.sql.sqlite import SYNCHRONOUS_MODES, SqliteDatabase

from .base import Conflict, EngineStoreError, InvalidPlan, NotFound, StaleRevision
from .materialize import Numbers, Series, build, check_plan, check_reused
from .migrations import RUNNER
from .plan import MaterializationOutcome, MaterializationPlan
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
from .rows import (
    BOM_COLUMNS,
    DESIGN_COLUMNS,
    ECO_COLUMNS,
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    ITEM_INSERT_COLUMNS,
    MEMBER_COLUMNS,
    PROGRAM_COLUMNS,
    SESSION_COLUMNS,
    bom_line_from_row,
    check_events,
    check_page,
    design_from_row,
    dump_json,
    eco_from_row,
    event_from_row,
    item_from_row,
    item_row,
    load_json,
    member_from_row,
    program_from_row,
    search_key,
    session_from_row,
)

__all__ = ["SYNCHRONOUS_MODES", "SqliteEngineStore"]

log = logging.getLogger(__name__)

_SAVE_SESSION = f"""
UPDATE design_sessions
SET title = ?, stage = ?, status = ?, design_id = ?, ai_chat_session_id = ?,
    artifacts = ?, pending_run = ?, updated_at = ?, doc = ?, revision = revision + 1
WHERE id = ? AND revision = ?
RETURNING {SESSION_COLUMNS}
"""

_INSERT_EVENT = f"INSERT INTO design_session_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)"

_INSERT_ITEM = f"INSERT INTO items ({ITEM_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_LINE = f"INSERT INTO bom_lines ({BOM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_ECO = f"INSERT INTO ecos ({ECO_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

# Draws ``count`` numbers at once: the first of them is returned.
_ALLOCATE = (
    "UPDATE number_sequences SET next_value = next_value + ? WHERE series = ? RETURNING next_value - ?"
)

_SEARCH_ITEMS = f"""
SELECT {ITEM_COLUMNS} FROM items
WHERE owner_id = ? AND (instr(name_key, ?) > 0 OR instr(lower(item_number), ?) > 0)
ORDER BY lower(item_number) = ? DESC, kind, seq
LIMIT ?
"""

_MEMBER_ROLE = """
SELECT CASE WHEN p.owner_id = ? THEN 'owner' ELSE m.role END
FROM programs AS p
LEFT JOIN program_members AS m ON m.program_id = p.id AND m.user_id = ?
WHERE p.id = ?
"""


def _session(row: Sequence[Any]) -> DesignSessionRecord:
    return session_from_row(row, load_json)


def _event_rows(events: Iterable[StoredEvent]) -> list[tuple[object, ...]]:
    return [(e.session_id, e.event_id, e.run_id, e.data, e.created_at) for e in events]


async def _revision(db: aiosqlite.Connection, session_id: str) -> int:
    rows = list(await db.execute_fetchall("SELECT revision FROM design_sessions WHERE id = ?", (session_id,)))
    if not rows:
        raise NotFound(f"design session {session_id} does not exist")
    return int(rows[0][0])


async def _save(
    db: aiosqlite.Connection, record: DesignSessionRecord, expected_revision: int
) -> DesignSessionRecord:
    """The optimistic save, inside the caller's transaction."""
    artifacts = dump_json(record.artifacts, "artifacts").decode()
    pending_run = (
        None if record.pending_run is None else dump_json(record.pending_run, "pending_run").decode()
    )
    rows = list(
        await db.execute_fetchall(
            _SAVE_SESSION,
            (
                record.title,
                record.stage,
                record.status,
                record.design_id,
                record.ai_chat_session_id,
                artifacts,
                pending_run,
                record.updated_at,
                record.doc,
                record.id,
                expected_revision,
            ),
        )
    )
    if not rows:
        raise StaleRevision(record.id, expected_revision, await _revision(db, record.id))
    return _session(rows[0])


async def _allocate(db: aiosqlite.Connection, series: Series, count: int) -> int:
    """The first of ``count`` consecutive numbers of the series (its next one if none)."""
    rows = list(await db.execute_fetchall(_ALLOCATE, (count, series.value, count)))
    if not rows:
        raise EngineStoreError(f"number series {series} is missing")
    return int(rows[0][0])


def _item(row: Sequence[Any]) -> Item:
    return item_from_row(row, load_json)


class SqliteEngineStore(SqliteDatabase):
    """One connection and one writer: SQLite serialises writes anyway.

    Reads take the same lock as writes because the connection is shared: a read issued
    while another caller's transaction is open would see its uncommitted rows.
    ``synchronous`` is FULL by default so a committed save survives power loss.
    """

    _runner = RUNNER
    _errors = StoreErrors(EngineStoreError, Conflict, NotFound)
    _log = log

    # programs

    async def create_program(self, program: Program) -> None:
        async with self._write(f"create_program {program.id}") as db:
            await db.execute(
                f"INSERT INTO programs ({PROGRAM_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (program.id, program.owner_id, program.name, program.description, program.created_at),
            )

    async def get_program(self, program_id: str) -> Program | None:
        rows = await self._fetch(
            "get_program", f"SELECT {PROGRAM_COLUMNS} FROM programs WHERE id = ?", (program_id,)
        )
        return program_from_row(rows[0]) if rows else None

    async def list_programs(self, user_id: str) -> list[Program]:
        rows = await self._fetch(
            "list_programs",
            f"SELECT {PROGRAM_COLUMNS} FROM programs AS p WHERE p.owner_id = ? OR EXISTS "
            "(SELECT 1 FROM program_members AS m WHERE m.program_id = p.id AND m.user_id = ?) "
            "ORDER BY created_at DESC, id",
            (user_id, user_id),
        )
        return [program_from_row(row) for row in rows]

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None:
        async with self._write(f"add_member {program_id}") as db:
            await db.execute(
                f"INSERT INTO program_members ({MEMBER_COLUMNS}) VALUES (?, ?, ?) "
                "ON CONFLICT (program_id, user_id) DO UPDATE SET role = excluded.role",
                (program_id, user_id, role),
            )

    async def list_members(self, program_id: str) -> list[ProgramMember]:
        rows = await self._fetch(
            "list_members",
            f"SELECT {MEMBER_COLUMNS} FROM program_members WHERE program_id = ? ORDER BY user_id",
            (program_id,),
        )
        return [member_from_row(row) for row in rows]

    async def member_role(self, program_id: str, user_id: str) -> str | None:
        rows = await self._fetch("member_role", _MEMBER_ROLE, (user_id, user_id, program_id))
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    # designs

    async def create_design(self, design: Design) -> None:
        async with self._write(f"create_design {design.id}") as db:
            await db.execute(
                f"INSERT INTO designs ({DESIGN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    design.id,
                    design.program_id,
                    design.name,
                    LifecycleState(design.lifecycle_state).value,
                    design.created_at,
                    design.updated_at,
                ),
            )

    async def get_design(self, design_id: str) -> Design | None:
        rows = await self._fetch(
            "get_design", f"SELECT {DESIGN_COLUMNS} FROM designs WHERE id = ?", (design_id,)
        )
        return design_from_row(rows[0]) if rows else None

    async def list_designs(self, program_id: str) -> list[Design]:
        rows = await self._fetch(
            "list_designs",
            f"SELECT {DESIGN_COLUMNS} FROM designs WHERE program_id = ? ORDER BY created_at DESC, id",
            (program_id,),
        )
        return [design_from_row(row) for row in rows]

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design:
        value = LifecycleState(state).value
        async with self._write(f"set_design_state {design_id}") as db:
            rows = list(
                await db.execute_fetchall(
                    f"UPDATE designs SET lifecycle_state = ?, updated_at = ? WHERE id = ? "
                    f"RETURNING {DESIGN_COLUMNS}",
                    (value, updated_at or utc_now_iso(), design_id),
                )
            )
        if not rows:
            raise NotFound(f"design {design_id} does not exist")
        return design_from_row(rows[0])

    # design sessions

    async def create_session(self, record: DesignSessionRecord) -> None:
        artifacts = dump_json(record.artifacts, "artifacts")
        pending_run = None if record.pending_run is None else dump_json(record.pending_run, "pending_run")
        async with self._write(f"create_session {record.id}") as db:
            await db.execute(
                f"INSERT INTO design_sessions ({SESSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.user_id,
                    record.program_id,
                    record.design_id,
                    record.ai_chat_session_id,
                    record.title,
                    record.stage,
                    record.status,
                    artifacts.decode(),
                    None if pending_run is None else pending_run.decode(),
                    record.created_at,
                    record.updated_at,
                    record.revision,
                    record.doc,
                ),
            )

    async def get_session(self, session_id: str) -> DesignSessionRecord | None:
        rows = await self._fetch(
            "get_session", f"SELECT {SESSION_COLUMNS} FROM design_sessions WHERE id = ?", (session_id,)
        )
        return _session(rows[0]) if rows else None

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_sessions",
            f"SELECT {SESSION_COLUMNS} FROM design_sessions WHERE user_id = ? "
            "ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [_session(row) for row in rows]

    async def save_session(self, record: DesignSessionRecord, expected_revision: int) -> DesignSessionRecord:
        return await self.save_session_with_events(record, expected_revision, ())

    async def save_session_with_events(
        self,
        record: DesignSessionRecord,
        expected_revision: int,
        events: Sequence[StoredEvent],
    ) -> DesignSessionRecord:
        check_events(record.id, events)
        async with self._write(f"save_session {record.id}") as db:
            saved = await _save(db, record, expected_revision)
            if events:
                await db.executemany(_INSERT_EVENT, _event_rows(events))
        return saved

    async def delete_session(self, session_id: str) -> bool:
        async with self._write(f"delete_session {session_id}") as db:
            # The event log goes with it (ON DELETE CASCADE).
            cursor = await db.execute("DELETE FROM design_sessions WHERE id = ?", (session_id,))
            deleted = cursor.rowcount
        return deleted > 0

    # event log

    async def append_events(self, session_id: str, events: Sequence[StoredEvent]) -> None:
        check_events(session_id, events)
        if not events:
            return
        async with self._write(f"append_events {session_id}") as db:
            await db.executemany(_INSERT_EVENT, _event_rows(events))

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]:
        check_page(limit, 0)
        rows = await self._fetch(
            "read_events",
            f"SELECT {EVENT_COLUMNS} FROM design_session_events "
            "WHERE session_id = ? AND event_id > ? ORDER BY event_id LIMIT ?",
            (session_id, after_id, limit),
        )
        return [event_from_row(row) for row in rows]

    async def last_event_id(self, session_id: str) -> int:
        rows = await self._fetch(
            "last_event_id",
            "SELECT COALESCE(MAX(event_id), 0) FROM design_session_events WHERE session_id = ?",
            (session_id,),
        )
        return int(rows[0][0])

    # PLM

    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]:
        check_page(limit, 0)
        key = search_key(query)
        rows = await self._fetch("search_items", _SEARCH_ITEMS, (owner_id, key, key, key, limit))
        return [_item(row) for row in rows]

    async def get_item(self, item_id: str) -> Item | None:
        rows = await self._fetch("get_item", f"SELECT {ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,))
        return _item(rows[0]) if rows else None

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]:
        if not item_ids:
            return []
        # One JSON parameter, whatever the number of ids (SQLite caps bound variables).
        rows = await self._fetch(
            "get_items",
            f"SELECT {ITEM_COLUMNS} FROM items WHERE id IN (SELECT value FROM json_each(?))",
            (dump_json(list(item_ids), "item ids").decode(),),
        )
        by_id = {item.id: item for item in map(_item, rows)}
        return [by_id[i] for i in dict.fromkeys(item_ids) if i in by_id]

    async def get_eco(self, eco_id: str) -> Eco | None:
        rows = await self._fetch("get_eco", f"SELECT {ECO_COLUMNS} FROM ecos WHERE id = ?", (eco_id,))
        return eco_from_row(rows[0], load_json) if rows else None

    async def design_bom(self, design_id: str) -> list[BomLine]:
        rows = await self._fetch(
            "design_bom",
            f"SELECT {BOM_COLUMNS} FROM bom_lines WHERE design_id = ? "
            "ORDER BY parent_item_id IS NOT NULL, parent_item_id, position, id",
            (design_id,),
        )
        return [bom_line_from_row(row) for row in rows]

    async def item_requirements(self, item_id: str) -> list[Item]:
        rows = await self._fetch(
            "item_requirements",
            f"SELECT {ITEM_COLUMNS} FROM items WHERE id IN "
            "(SELECT requirement_item_id FROM requirement_links WHERE item_id = ?) ORDER BY seq",
            (item_id,),
        )
        return [_item(row) for row in rows]

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome:
        check_plan(plan, session)
        created_at = plan.created_at or utc_now_iso()
        # BEGIN IMMEDIATE holds the write lock from the first statement: a materialization in
        # another process waits, then finds the revision moved on. The number counters are
        # updated in the same transaction, so a rollback gives the numbers back.
        async with self._write(f"materialize {session.id}") as db:
            actual = await _revision(db, session.id)
            if actual != expected_revision:
                raise StaleRevision(session.id, expected_revision, actual)
            await self._target_design(db, plan, created_at)
            await self._check_reused(db, plan)
            numbers = Numbers(
                first_requirement=await _allocate(db, Series.REQUIREMENT, len(plan.requirements)),
                first_part=await _allocate(db, Series.PART, plan.new_part_count),
                eco=await _allocate(db, Series.ECO, 1) if plan.create_eco else None,
            )
            built = build(plan, session, numbers, created_at)
            await self._insert_items(db, built.items)
            await db.executemany(
                "INSERT INTO requirement_links (item_id, requirement_item_id) VALUES (?, ?)",
                [(link.item_id, link.requirement_item_id) for link in built.links],
            )
            await self._insert_lines(db, built.lines)
            if built.eco is not None:
                await self._insert_eco(db, built.eco)
            saved = await _save(db, built.record, expected_revision)
        return built.outcome(plan, saved)

    @staticmethod
    async def _target_design(db: aiosqlite.Connection, plan: MaterializationPlan, touched_at: str) -> None:
        if plan.new_design is not None:
            design = plan.new_design
            await db.execute(
                f"INSERT INTO designs ({DESIGN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    design.id,
                    design.program_id,
                    design.name,
                    LifecycleState(design.lifecycle_state).value,
                    design.created_at,
                    design.updated_at,
                ),
            )
            return
        # Its BOM is about to change.
        rows = list(
            await db.execute_fetchall(
                "UPDATE designs SET updated_at = ? WHERE id = ? RETURNING program_id",
                (touched_at, plan.design_id),
            )
        )
        if not rows:
            raise NotFound(f"design {plan.design_id} does not exist")
        if str(rows[0][0]) != plan.program_id:
            raise InvalidPlan(f"design {plan.design_id} is not in program {plan.program_id}")

    @staticmethod
    async def _check_reused(db: aiosqlite.Connection, plan: MaterializationPlan) -> None:
        reused = plan.reused_item_ids
        if not reused:
            return
        rows = await db.execute_fetchall(
            "SELECT id, kind FROM items WHERE id IN (SELECT value FROM json_each(?))",
            (dump_json(reused, "item ids").decode(),),
        )
        missing = check_reused(plan, {str(row[0]): ItemKind(row[1]) for row in rows})
        if missing:
            raise NotFound(f"reused items do not exist: {', '.join(missing)}")

    @staticmethod
    async def _insert_items(db: aiosqlite.Connection, items: Sequence[Item]) -> None:
        rows = [item_row(item, dump_json(item.attributes, "attributes").decode()) for item in items]
        await db.executemany(_INSERT_ITEM, rows)

    @staticmethod
    async def _insert_lines(db: aiosqlite.Connection, lines: Sequence[BomLine]) -> None:
        await db.executemany(
            _INSERT_LINE,
            [(b.id, b.design_id, b.parent_item_id, b.child_item_id, b.quantity, b.position) for b in lines],
        )

    @staticmethod
    async def _insert_eco(db: aiosqlite.Connection, eco: Eco) -> None:
        await db.execute(
            _INSERT_ECO,
            (
                eco.id,
                eco.eco_number,
                eco.design_id,
                eco.session_id,
                eco.owner_id,
                eco.title,
                dump_json(eco.changes, "ECO changes").decode(),
                eco.created_at,
            ),
        )
