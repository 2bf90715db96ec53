"""The design engine's store at the store owner: each method sends its one op.

Hosts and the session client call it as they would call an ``EngineStore``; every method
is one line over the store client's ``call`` (the one path to the store owner).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from storage.engine import (
    BomLine,
    Design,
    DesignSessionRecord,
    Eco,
    Item,
    LifecycleState,
    MaterializationOutcome,
    MaterializationPlan,
    Program,
    StoredEvent,
)

from .ops import StoreCalls
from .ops import engine as ops

__all__ = ["LinkEngineStore"]


class LinkEngineStore:
    def __init__(self, client: StoreCalls) -> None:
        self._call = client.call

    async def create_program(self, program: Program) -> None:
        await self._call(ops.CreateProgram(program))

    async def get_program(self, program_id: str) -> Program | None:
        return cast(Program | None, await self._call(ops.GetProgram(program_id)))

    async def list_programs(self, user_id: str) -> list[Program]:
        return cast(list[Program], await self._call(ops.ListPrograms(user_id)))

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None:
        await self._call(ops.AddMember(program_id, user_id, role))

    async def member_role(self, program_id: str, user_id: str) -> str | None:
        return cast(str | None, await self._call(ops.MemberRole(program_id, user_id)))

    async def create_design(self, design: Design) -> None:
        await self._call(ops.CreateDesign(design))

    async def get_design(self, design_id: str) -> Design | None:
        return cast(Design | None, await self._call(ops.GetDesign(design_id)))

    async def list_designs(self, program_id: str) -> list[Design]:
        return cast(list[Design], await self._call(ops.ListDesigns(program_id)))

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design:
        return cast(Design, await self._call(ops.SetDesignState(design_id, state, updated_at)))

    async def create_session(self, record: DesignSessionRecord) -> None:
        await self._call(ops.CreateSession(record))

    async def get_session(self, session_id: str) -> DesignSessionRecord | None:
        return cast(DesignSessionRecord | None, await self._call(ops.GetSession(session_id)))

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]:
        return cast(list[DesignSessionRecord], await self._call(ops.ListSessions(user_id, limit, offset)))

    async def save_session_with_events(
        self, record: DesignSessionRecord, expected_revision: int, events: Sequence[StoredEvent]
    ) -> DesignSessionRecord:
        op = ops.SaveSessionWithEvents(record, expected_revision, list(events))
        return cast(DesignSessionRecord, await self._call(op))

    async def delete_session(self, session_id: str) -> bool:
        return cast(bool, await self._call(ops.DeleteSession(session_id)))

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]:
        return cast(list[StoredEvent], await self._call(ops.ReadEvents(session_id, after_id, limit)))

    async def last_event_id(self, session_id: str) -> int:
        return cast(int, await self._call(ops.LastEventId(session_id)))

    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]:
        return cast(list[Item], await self._call(ops.SearchItems(owner_id, query, limit)))

    async def get_item(self, item_id: str) -> Item | None:
        return cast(Item | None, await self._call(ops.GetItem(item_id)))

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]:
        return cast(list[Item], await self._call(ops.GetItems(list(item_ids))))

    async def get_eco(self, eco_id: str) -> Eco | None:
        return cast(Eco | None, await self._call(ops.GetEco(eco_id)))

    async def design_bom(self, design_id: str) -> list[BomLine]:
        return cast(list[BomLine], await self._call(ops.DesignBom(design_id)))

    async def item_requirements(self, item_id: str) -> list[Item]:
        return cast(list[Item], await self._call(ops.ItemRequirements(item_id)))

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome:
        op = ops.Materialize(plan, session, expected_revision)
        return cast(MaterializationOutcome, await self._call(op))
