"""The design engine store's operations: programs, designs, sessions, events, PLM items.

Each is one method of ``EngineStore``, with that method's parameters as its fields.
``retry``: reads only; every write here either refuses a second time (``Conflict``,
``StaleRevision``) or would answer differently.
"""

from __future__ import annotations

from typing import ClassVar

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


class CreateProgram(StoreOp[None], tag="e.create_program", frozen=True):
    program: Program
    retry: ClassVar[bool] = False


class GetProgram(StoreOp[Program | None], tag="e.get_program", frozen=True):
    program_id: str


class ListPrograms(StoreOp[list[Program]], tag="e.list_programs", frozen=True):
    user_id: str


class AddMember(StoreOp[None], tag="e.add_member", frozen=True):
    program_id: str
    user_id: str
    role: str = "member"
    retry: ClassVar[bool] = False


class MemberRole(StoreOp[str | None], tag="e.member_role", frozen=True):
    program_id: str
    user_id: str


class CreateDesign(StoreOp[None], tag="e.create_design", frozen=True):
    design: Design
    retry: ClassVar[bool] = False


class GetDesign(StoreOp[Design | None], tag="e.get_design", frozen=True):
    design_id: str


class ListDesigns(StoreOp[list[Design]], tag="e.list_designs", frozen=True):
    program_id: str


class SetDesignState(StoreOp[Design], tag="e.set_design_state", frozen=True):
    design_id: str
    state: LifecycleState
    updated_at: str | None = None
    retry: ClassVar[bool] = False


class CreateSession(StoreOp[None], tag="e.create_session", frozen=True):
    record: DesignSessionRecord
    retry: ClassVar[bool] = False


class GetSession(StoreOp[DesignSessionRecord | None], tag="e.get_session", frozen=True):
    session_id: str


class ListSessions(StoreOp[list[DesignSessionRecord]], tag="e.list_sessions", frozen=True):
    user_id: str
    limit: int
    offset: int = 0


class SaveSessionWithEvents(StoreOp[DesignSessionRecord], tag="e.save_session", frozen=True):
    """Save the session if it is still at ``expected_revision`` (else ``StaleRevision``),
    with its new events."""

    record: DesignSessionRecord
    expected_revision: int
    events: list[StoredEvent]
    retry: ClassVar[bool] = False


class DeleteSession(StoreOp[bool], tag="e.delete_session", frozen=True):
    session_id: str
    retry: ClassVar[bool] = False


class ReadEvents(StoreOp[list[StoredEvent]], tag="e.read_events", frozen=True):
    session_id: str
    after_id: int
    limit: int


class LastEventId(StoreOp[int], tag="e.last_event_id", frozen=True):
    session_id: str


class SearchItems(StoreOp[list[Item]], tag="e.search_items", frozen=True):
    owner_id: str
    query: str
    limit: int


class GetItem(StoreOp[Item | None], tag="e.get_item", frozen=True):
    item_id: str


class GetItems(StoreOp[list[Item]], tag="e.get_items", frozen=True):
    item_ids: list[str]


class GetEco(StoreOp[Eco | None], tag="e.get_eco", frozen=True):
    eco_id: str


class DesignBom(StoreOp[list[BomLine]], tag="e.design_bom", frozen=True):
    design_id: str


class ItemRequirements(StoreOp[list[Item]], tag="e.item_requirements", frozen=True):
    item_id: str


class Materialize(StoreOp[MaterializationOutcome], tag="e.materialize", frozen=True):
    """Carry out the plan and save the session at ``expected_revision``, in one transaction."""

    plan: MaterializationPlan
    session: DesignSessionRecord
    expected_revision: int
    retry: ClassVar[bool] = False
