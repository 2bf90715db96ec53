"""The design engine store's operations: programs, designs, sessions, events, PLM items.

Each is one method of ``EngineStore``, with that method's parameters as its fields.
``retry``: reads only; every write here either refuses a second time (``Conflict``,
``StaleRevision``) or would answer differently.
"""

from __future__ import annotations

from typing import Any, ClassVar

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

from .base import StoreOp

__all__ = [
    "AddMember",
    "CreateDesign",
    "CreateProgram",
    "CreateSession",
    "DeleteSession",
    "DesignBom",
    "GetDesign",
    "GetEco",
    "GetItem",
    "GetItems",
    "GetProgram",
    "GetSession",
    "ItemRequirements",
    "LastEventId",
    "ListDesigns",
    "ListPrograms",
    "ListSessions",
    "Materialize",
    "MemberRole",
    "ReadEvents",
    "SaveSessionWithEvents",
    "SearchItems",
    "SetDesignState",
]


class CreateProgram(StoreOp, tag="e.create_program", frozen=True):
    program: Program
    retry: ClassVar[bool] = False


class GetProgram(StoreOp, tag="e.get_program", frozen=True):
    program_id: str
    answer: ClassVar[Any] = Program | None


class ListPrograms(StoreOp, tag="e.list_programs", frozen=True):
    user_id: str
    answer: ClassVar[Any] = list[Program]


class AddMember(StoreOp, tag="e.add_member", frozen=True):
    program_id: str
    user_id: str
    role: str = "member"
    retry: ClassVar[bool] = False


class MemberRole(StoreOp, tag="e.member_role", frozen=True):
    program_id: str
    user_id: str
    answer: ClassVar[Any] = str | None


class CreateDesign(StoreOp, tag="e.create_design", frozen=True):
    design: Design
    retry: ClassVar[bool] = False


class GetDesign(StoreOp, tag="e.get_design", frozen=True):
    design_id: str
    answer: ClassVar[Any] = Design | None


class ListDesigns(StoreOp, tag="e.list_designs", frozen=True):
    program_id: str
    answer: ClassVar[Any] = list[Design]


class SetDesignState(StoreOp, tag="e.set_design_state", frozen=True):
    design_id: str
    state: LifecycleState
    updated_at: str | None = None
    answer: ClassVar[Any] = Design
    retry: ClassVar[bool] = False


class CreateSession(StoreOp, tag="e.create_session", frozen=True):
    record: DesignSessionRecord
    retry: ClassVar[bool] = False


class GetSession(StoreOp, tag="e.get_session", frozen=True):
    session_id: str
    answer: ClassVar[Any] = DesignSessionRecord | None


class ListSessions(StoreOp, tag="e.list_sessions", frozen=True):
    user_id: str
    limit: int
    offset: int = 0
    answer: ClassVar[Any] = list[DesignSessionRecord]


class SaveSessionWithEvents(StoreOp, tag="e.save_session", frozen=True):
    """Save the session if it is still at ``expected_revision`` (else ``StaleRevision``),
    with its new events."""

    record: DesignSessionRecord
    expected_revision: int
    events: list[StoredEvent]
    answer: ClassVar[Any] = DesignSessionRecord
    retry: ClassVar[bool] = False


class DeleteSession(StoreOp, tag="e.delete_session", frozen=True):
    session_id: str
    answer: ClassVar[Any] = bool
    retry: ClassVar[bool] = False


class ReadEvents(StoreOp, tag="e.read_events", frozen=True):
    session_id: str
    after_id: int
    limit: int
    answer: ClassVar[Any] = list[StoredEvent]


class LastEventId(StoreOp, tag="e.last_event_id", frozen=True):
    session_id: str
    answer: ClassVar[Any] = int


class SearchItems(StoreOp, tag="e.search_items", frozen=True):
    owner_id: str
    query: str
    limit: int
    answer: ClassVar[Any] = list[Item]


class GetItem(StoreOp, tag="e.get_item", frozen=True):
    item_id: str
    answer: ClassVar[Any] = Item | None


class GetItems(StoreOp, tag="e.get_items", frozen=True):
    item_ids: list[str]
    answer: ClassVar[Any] = list[Item]


class GetEco(StoreOp, tag="e.get_eco", frozen=True):
    eco_id: str
    answer: ClassVar[Any] = Eco | None


class DesignBom(StoreOp, tag="e.design_bom", frozen=True):
    design_id: str
    answer: ClassVar[Any] = list[BomLine]


class ItemRequirements(StoreOp, tag="e.item_requirements", frozen=True):
    item_id: str
    answer: ClassVar[Any] = list[Item]


class Materialize(StoreOp, tag="e.materialize", frozen=True):
    """Carry out the plan and save the session at ``expected_revision``, in one transaction."""

    plan: MaterializationPlan
    session: DesignSessionRecord
    expected_revision: int
    answer: ClassVar[Any] = MaterializationOutcome
    retry: ClassVar[bool] = False
