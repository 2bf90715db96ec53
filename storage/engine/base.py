"""The design-engine storage contract every backend (SQLite, Postgres) fulfils."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.errors import StoreError
from storage.sql.base import Lifecycle

from .plan import MaterializationOutcome, MaterializationPlan
from .records import (
    BomLine,
    Design,
    DesignSessionRecord,
    Eco,
    Item,
    LifecycleState,
    Program,
    ProgramMember,
    StoredEvent,
)

__all__ = ["Conflict", "EngineStore", "EngineStoreError", "InvalidPlan", "NotFound", "StaleRevision"]


class EngineStoreError(StoreError):
    """The engine store could not complete an operation; nothing of it was committed."""


class NotFound(EngineStoreError):
    """The record, or a record it refers to (its program, its session), does not exist."""


class Conflict(EngineStoreError):
    """A record with that key exists already (a program/design/session id, an event id)."""


class InvalidPlan(EngineStoreError):
    """A materialization plan that cannot be carried out as given (an unknown tempId, a
    reused item that is not a part, a BOM cycle...); nothing of it was committed."""


class StaleRevision(EngineStoreError):
    """An optimistic save lost: the session was saved by someone else since it was read."""

    def __init__(self, session_id: str, expected: int, actual: int) -> None:
        super().__init__(f"session {session_id} is at revision {actual}, not the expected {expected}")
        self.session_id = session_id
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[type[StaleRevision], tuple[str, int, int]]:
        return (StaleRevision, (self.session_id, self.expected, self.actual))


class EngineStore(Lifecycle, Protocol):
    """Programs, designs, design sessions and their event logs.

    Every write is one transaction. Listing is scoped: a user sees the sessions they
    created and the programs they own or are a member of. ``get_*`` are not scoped: the
    caller reads the owner from the record to answer 403 rather than 404.

    ``save_session`` is an optimistic write: it commits only if the stored revision is
    ``expected_revision`` and returns the record at the next revision, else raises
    ``StaleRevision``. It writes every field but ``id``, ``user_id``, ``program_id`` and
    ``created_at``, which never change. ``save_session_with_events`` commits the save and
    the events announcing it together, so an event is never replayed for a change that was
    not kept, nor a change kept whose events were lost.

    PLM items (parts, requirements), BOM lines, requirement links and ECOs are created only
    by ``materialize``, all of one plan in one transaction together with the session's save.
    """

    # programs
    async def create_program(self, program: Program) -> None: ...

    async def get_program(self, program_id: str) -> Program | None: ...

    async def list_programs(self, user_id: str) -> list[Program]: ...

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None: ...

    async def list_members(self, program_id: str) -> list[ProgramMember]: ...

    async def member_role(self, program_id: str, user_id: str) -> str | None:
        """``"owner"`` for the owner, the member's role, or ``None`` (no access or no program)."""
        ...

    # designs
    async def create_design(self, design: Design) -> None: ...

    async def get_design(self, design_id: str) -> Design | None: ...

    async def list_designs(self, program_id: str) -> list[Design]: ...

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design: ...

    # design sessions
    async def create_session(self, record: DesignSessionRecord) -> None: ...

    async def get_session(self, session_id: str) -> DesignSessionRecord | None: ...

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]:
        """The user's sessions, newest first (``created_at`` descending, then ``id``)."""
        ...

    async def save_session(
        self, record: DesignSessionRecord, expected_revision: int
    ) -> DesignSessionRecord: ...

    async def save_session_with_events(
        self,
        record: DesignSessionRecord,
        expected_revision: int,
        events: Sequence[StoredEvent],
    ) -> DesignSessionRecord: ...

    async def delete_session(self, session_id: str) -> bool:
        """Deletes the session and its event log; ``False`` if there was no such session."""
        ...

    # event log
    async def append_events(self, session_id: str, events: Sequence[StoredEvent]) -> None: ...

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with ``event_id > after_id``, ascending."""
        ...

    async def last_event_id(self, session_id: str) -> int:
        """The highest event id of the session, 0 if it has none."""
        ...

    # PLM
    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]:
        """Up to ``limit`` of the owner's items whose name contains ``query`` (case folded) or
        whose item number does (case-insensitive); an exact item number first, then by kind
        and number. An empty query matches every item of the owner."""
        ...

    async def get_item(self, item_id: str) -> Item | None: ...

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]:
        """The items that exist, in the order of ``item_ids``, each once."""
        ...

    async def get_eco(self, eco_id: str) -> Eco | None: ...

    async def design_bom(self, design_id: str) -> list[BomLine]:
        """The design's BOM lines: the top level first, then by parent, position and id."""
        ...

    async def item_requirements(self, item_id: str) -> list[Item]:
        """The requirement items linked to ``item_id``, by number."""
        ...

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome:
        """Carries out ``plan`` and saves ``session`` with its result, in one transaction.

        In order: the session must be at ``expected_revision`` (else ``StaleRevision``, and
        a concurrent materialization of it waits for the other to finish first); the plan's
        new design is created, or its existing design checked and touched; the reused items
        must exist (``NotFound``) and be parts (``InvalidPlan``); requirements and new parts
        are created with the next numbers of their series, then the requirement links, the
        BOM lines and, when ``plan.create_eco``, an ECO with the next ECO number. Last the
        session is saved as given but with ``design_id`` the plan's design, status
        ``completed`` and ``artifacts["materializationResult"]`` in the spec's shape
        (``designId, ecoId, ecoNumber, createdItems[], bomRelationshipsCreated``). Any
        failure commits nothing: no item, no number drawn, the session as it was.
        """
        ...
