"""Postgres engine store over asyncpg: its own small pool, its tables in their own schema."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from storage.clock import utc_now_iso
from storage.sql.base import StoreErrors
from storage.sql.postgres import PostgresDatabase, as_is

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
    eco_from_row,
    event_from_row,
    item_from_row,
    item_row,
    member_from_row,
    program_from_row,
    search_key,
    session_from_row,
)

__all__ = ["PostgresEngineStore"]

log = logging.getLogger(__name__)

_SAVE_SESSION = f"""
UPDATE design_sessions
SET title = $3, stage = $4, status = $5, design_id = $6, ai_chat_session_id = $7,
    artifacts = $8, pending_run = $9, updated_at = $10, doc = $11, revision = revision + 1
WHERE id = $1 AND revision = $2
RETURNING {SESSION_COLUMNS}
"""

# One round trip for the whole batch, whatever its size.
_INSERT_EVENTS = f"""
INSERT INTO design_session_events ({EVENT_COLUMNS})
SELECT $1, e.event_id, e.run_id, e.data, e.created_at
FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::text[]) AS e(event_id, run_id, data, created_at)
"""

_INSERT_ITEM = (
    f"INSERT INTO items ({ITEM_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)
_INSERT_LINE = f"INSERT INTO bom_lines ({BOM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
_INSERT_ECO = f"INSERT INTO ecos ({ECO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"

# Draws ``$1`` numbers at once and returns the first. The row stays locked until commit:
# a concurrent materialization waits here and then draws after the numbers just taken.
_ALLOCATE = (
    "UPDATE number_sequences SET next_value = next_value + $1 WHERE series = $2 RETURNING next_value - $1"
)

_SEARCH_ITEMS = f"""
SELECT {ITEM_COLUMNS} FROM items
WHERE owner_id = $1 AND (strpos(name_key, $2) > 0 OR strpos(lower(item_number), $2) > 0)
ORDER BY lower(item_number) = $2 DESC, kind, seq
LIMIT $3
"""

_MEMBER_ROLE = """
SELECT CASE WHEN p.owner_id = $2 THEN 'owner' ELSE m.role END
FROM programs AS p
LEFT JOIN program_members AS m ON m.program_id = p.id AND m.user_id = $2
WHERE p.id = $1
"""

_LIST_PROGRAMS = f"""
SELECT {PROGRAM_COLUMNS} FROM programs AS p
WHERE p.owner_id = $1
   OR EXISTS (SELECT 1 FROM program_members AS m WHERE m.program_id = p.id AND m.user_id = $1)
ORDER BY created_at DESC, id
"""


def _session(row: asyncpg.Record) -> DesignSessionRecord:
    return session_from_row(row, as_is)


def _item(row: asyncpg.Record) -> Item:
    return item_from_row(row, as_is)


async def _revision(conn: asyncpg.Connection, session_id: str, *, lock: bool = False) -> int:
    sql = "SELECT revision FROM design_sessions WHERE id = $1" + (" FOR NO KEY UPDATE" if lock else "")
    current = await conn.fetchval(sql, session_id)
    if current is None:
        raise NotFound(f"design session {session_id} does not exist")
    return int(current)


async def _save(
    conn: asyncpg.Connection, record: DesignSessionRecord, expected_revision: int
) -> DesignSessionRecord:
    """The optimistic save, inside the caller's transaction."""
    row = await conn.fetchrow(
        _SAVE_SESSION,
        record.id,
        expected_revision,
        record.title,
        record.stage,
        record.status,
        record.design_id,
        record.ai_chat_session_id,
        record.artifacts,
        record.pending_run,
        record.updated_at,
        record.doc,
    )
    if row is None:
        raise StaleRevision(record.id, expected_revision, await _revision(conn, record.id))
    return _session(row)


async def _allocate(conn: asyncpg.Connection, series: Series, count: int) -> int:
    """The first of ``count`` consecutive numbers of the series (its next one if none)."""
    first = await conn.fetchval(_ALLOCATE, count, series.value)
    if first is None:
        raise EngineStoreError(f"number series {series} is missing")
    return int(first)


class PostgresEngineStore(PostgresDatabase):
    """A bounded pool (``max_connections``) whatever the number of live sessions.

    Every connection's ``search_path`` is the engine's schema, so the SQL names its tables
    unqualified and nothing lands in ``public``. Optimistic saves need no explicit lock: a
    concurrent ``UPDATE ... WHERE revision = $2`` waits for the first to commit, re-reads
    the row and then matches nothing.
    """

    _runner = RUNNER
    _errors = StoreErrors(EngineStoreError, Conflict, NotFound)
    _log = log

    # programs

    async def create_program(self, program: Program) -> None:
        await self._execute(
            f"create_program {program.id}",
            f"INSERT INTO programs ({PROGRAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
            program.id,
            program.owner_id,
            program.name,
            program.description,
            program.created_at,
        )

    async def get_program(self, program_id: str) -> Program | None:
        row = await self._fetchrow(
            "get_program", f"SELECT {PROGRAM_COLUMNS} FROM programs WHERE id = $1", program_id
        )
        return None if row is None else program_from_row(row)

    async def list_programs(self, user_id: str) -> list[Program]:
        rows = await self._fetch("list_programs", _LIST_PROGRAMS, user_id)
        return [program_from_row(row) for row in rows]

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None:
        await self._execute(
            f"add_member {program_id}",
            f"INSERT INTO program_members ({MEMBER_COLUMNS}) VALUES ($1, $2, $3) "
            "ON CONFLICT (program_id, user_id) DO UPDATE SET role = excluded.role",
            program_id,
            user_id,
            role,
        )

    async def list_members(self, program_id: str) -> list[ProgramMember]:
        rows = await self._fetch(
            "list_members",
            f"SELECT {MEMBER_COLUMNS} FROM program_members WHERE program_id = $1 ORDER BY user_id",
            program_id,
        )
        return [member_from_row(row) for row in rows]

    async def member_role(self, program_id: str, user_id: str) -> str | None:
        row = await self._fetchrow("member_role", _MEMBER_ROLE, program_id, user_id)
        return None if row is None or row[0] is None else str(row[0])

    # designs

    async def create_design(self, design: Design) -> None:
        await self._execute(
            f"create_design {design.id}",
            f"INSERT INTO designs ({DESIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
            design.id,
            design.program_id,
            design.name,
            LifecycleState(design.lifecycle_state).value,
            design.created_at,
            design.updated_at,
        )

    async def get_design(self, design_id: str) -> Design | None:
        row = await self._fetchrow(
            "get_design", f"SELECT {DESIGN_COLUMNS} FROM designs WHERE id = $1", design_id
        )
        return None if row is None else design_from_row(row)

    async def list_designs(self, program_id: str) -> list[Design]:
        rows = await self._fetch(
            "list_designs",
            f"SELECT {DESIGN_COLUMNS} FROM designs WHERE program_id = $1 ORDER BY created_at DESC, id",
            program_id,
        )
        return [design_from_row(row) for row in rows]

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design:
        row = await self._fetchrow(
            f"set_design_state {design_id}",
            f"UPDATE designs SET lifecycle_state = $2, updated_at = $3 WHERE id = $1 "
            f"RETURNING {DESIGN_COLUMNS}",
            design_id,
            LifecycleState(state).value,
            updated_at or utc_now_iso(),
        )
        if row is None:
            raise NotFound(f"design {design_id} does not exist")
        return design_from_row(row)

    # design sessions

    async def create_session(self, record: DesignSessionRecord) -> None:
        await self._execute(
            f"create_session {record.id}",
            f"INSERT INTO design_sessions ({SESSION_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            record.id,
            record.user_id,
            record.program_id,
            record.design_id,
            record.ai_chat_session_id,
            record.title,
            record.stage,
            record.status,
            record.artifacts,
            record.pending_run,
            record.created_at,
            record.updated_at,
            record.revision,
            record.doc,
        )

    async def get_session(self, session_id: str) -> DesignSessionRecord | None:
        row = await self._fetchrow(
            "get_session", f"SELECT {SESSION_COLUMNS} FROM design_sessions WHERE id = $1", session_id
        )
        return None if row is None else _session(row)

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]:
        check_page(limit, offset)
        rows = await self._fetch(
            "list_sessions",
            f"SELECT {SESSION_COLUMNS} FROM design_sessions WHERE user_id = $1 "
            "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
            user_id,
            limit,
            offset,
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
        async with self._transaction(f"save_session {record.id}") as conn:
            saved = await _save(conn, record, expected_revision)
            if events:
                await self._insert_events(conn, record.id, events)
        return saved

    async def delete_session(self, session_id: str) -> bool:
        # The event log goes with it (ON DELETE CASCADE).
        row = await self._fetchrow(
            f"delete_session {session_id}",
            "DELETE FROM design_sessions WHERE id = $1 RETURNING id",
            session_id,
        )
        return row is not None

    # event log

    @staticmethod
    async def _insert_events(
        conn: asyncpg.Connection, session_id: str, events: Sequence[StoredEvent]
    ) -> None:
        await conn.execute(
            _INSERT_EVENTS,
            session_id,
            [e.event_id for e in events],
            [e.run_id for e in events],
            [e.data for e in events],
            [e.created_at for e in events],
        )

    async def append_events(self, session_id: str, events: Sequence[StoredEvent]) -> None:
        check_events(session_id, events)
        if not events:
            return
        async with self._transaction(f"append_events {session_id}") as conn:
            await self._insert_events(conn, session_id, events)

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]:
        check_page(limit, 0)
        rows = await self._fetch(
            "read_events",
            f"SELECT {EVENT_COLUMNS} FROM design_session_events "
            "WHERE session_id = $1 AND event_id > $2 ORDER BY event_id LIMIT $3",
            session_id,
            after_id,
            limit,
        )
        return [event_from_row(row) for row in rows]

    async def last_event_id(self, session_id: str) -> int:
        row = await self._fetchrow(
            "last_event_id",
            "SELECT COALESCE(MAX(event_id), 0) FROM design_session_events WHERE session_id = $1",
            session_id,
        )
        return 0 if row is None else int(row[0])

    # PLM

    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]:
        check_page(limit, 0)
        rows = await self._fetch("search_items", _SEARCH_ITEMS, owner_id, search_key(query), limit)
        return [_item(row) for row in rows]

    async def get_item(self, item_id: str) -> Item | None:
        row = await self._fetchrow("get_item", f"SELECT {ITEM_COLUMNS} FROM items WHERE id = $1", item_id)
        return None if row is None else _item(row)

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]:
        if not item_ids:
            return []
        rows = await self._fetch(
            "get_items", f"SELECT {ITEM_COLUMNS} FROM items WHERE id = ANY($1::text[])", list(item_ids)
        )
        by_id = {item.id: item for item in map(_item, rows)}
        return [by_id[i] for i in dict.fromkeys(item_ids) if i in by_id]

    async def get_eco(self, eco_id: str) -> Eco | None:
        row = await self._fetchrow("get_eco", f"SELECT {ECO_COLUMNS} FROM ecos WHERE id = $1", eco_id)
        return None if row is None else eco_from_row(row, as_is)

    async def design_bom(self, design_id: str) -> list[BomLine]:
        rows = await self._fetch(
            "design_bom",
            f"SELECT {BOM_COLUMNS} FROM bom_lines WHERE design_id = $1 "
            "ORDER BY parent_item_id IS NOT NULL, parent_item_id, position, id",
            design_id,
        )
        return [bom_line_from_row(row) for row in rows]

    async def item_requirements(self, item_id: str) -> list[Item]:
        rows = await self._fetch(
            "item_requirements",
            f"SELECT {ITEM_COLUMNS} FROM items WHERE id IN "
            "(SELECT requirement_item_id FROM requirement_links WHERE item_id = $1) ORDER BY seq",
            item_id,
        )
        return [_item(row) for row in rows]

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome:
        check_plan(plan, session)
        created_at = plan.created_at or utc_now_iso()
        async with self._transaction(f"materialize {session.id}") as conn:
            # Locked first: a second materialization of the session waits here for the first
            # to commit and then finds the revision moved on, before it has drawn a number.
            # Every materialization takes its locks in one order (session, design, then the
            # series: requirements, parts, ECOs), so concurrent ones queue, never deadlock.
            actual = await _revision(conn, session.id, lock=True)
            if actual != expected_revision:
                raise StaleRevision(session.id, expected_revision, actual)
            await self._target_design(conn, plan, created_at)
            await self._check_reused(conn, plan)
            numbers = Numbers(
                first_requirement=await _allocate(conn, Series.REQUIREMENT, len(plan.requirements)),
                first_part=await _allocate(conn, Series.PART, plan.new_part_count),
                eco=await _allocate(conn, Series.ECO, 1) if plan.create_eco else None,
            )
            built = build(plan, session, numbers, created_at)
            await self._insert_items(conn, built.items)
            await conn.executemany(
                "INSERT INTO requirement_links (item_id, requirement_item_id) VALUES ($1, $2)",
                [(link.item_id, link.requirement_item_id) for link in built.links],
            )
            await self._insert_lines(conn, built.lines)
            if built.eco is not None:
                await self._insert_eco(conn, built.eco)
            saved = await _save(conn, built.record, expected_revision)
        return built.outcome(plan, saved)

    @staticmethod
    async def _target_design(conn: asyncpg.Connection, plan: MaterializationPlan, touched_at: str) -> None:
        if plan.new_design is not None:
            design = plan.new_design
            await conn.execute(
                f"INSERT INTO designs ({DESIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
                design.id,
                design.program_id,
                design.name,
                LifecycleState(design.lifecycle_state).value,
                design.created_at,
                design.updated_at,
            )
            return
        # Its BOM is about to change.
        program_id = await conn.fetchval(
            "UPDATE designs SET updated_at = $2 WHERE id = $1 RETURNING program_id",
            plan.design_id,
            touched_at,
        )
        if program_id is None:
            raise NotFound(f"design {plan.design_id} does not exist")
        if str(program_id) != plan.program_id:
            raise InvalidPlan(f"design {plan.design_id} is not in program {plan.program_id}")

    @staticmethod
    async def _check_reused(conn: asyncpg.Connection, plan: MaterializationPlan) -> None:
        reused = plan.reused_item_ids
        if not reused:
            return
        rows = await conn.fetch("SELECT id, kind FROM items WHERE id = ANY($1::text[])", reused)
        missing = check_reused(plan, {str(row[0]): ItemKind(row[1]) for row in rows})
        if missing:
            raise NotFound(f"reused items do not exist: {', '.join(missing)}")

    @staticmethod
    async def _insert_items(conn: asyncpg.Connection, items: Sequence[Item]) -> None:
        await conn.executemany(_INSERT_ITEM, [item_row(item, item.attributes) for item in items])

    @staticmethod
    async def _insert_lines(conn: asyncpg.Connection, lines: Sequence[BomLine]) -> None:
        await conn.executemany(
            _INSERT_LINE,
            [(b.id, b.design_id, b.parent_item_id, b.child_item_id, b.quantity, b.position) for b in lines],
        )

    @staticmethod
    async def _insert_eco(conn: asyncpg.Connection, eco: Eco) -> None:
        await conn.execute(
            _INSERT_ECO,
            eco.id,
            eco.eco_number,
            eco.design_id,
            eco.session_id,
            eco.owner_id,
            eco.title,
            eco.changes,
            eco.created_at,
        )
