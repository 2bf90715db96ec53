"""Plain records of the design engine's durable state (picklable: they cross the Ray boundary).

Timestamps are ISO 8601 strings in UTC with milliseconds (``storage.clock.utc_now_iso``),
stored as given on both backends, so a record reads back exactly as it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "BomLine",
    "Design",
    "DesignSessionRecord",
    "Eco",
    "Item",
    "ItemKind",
    "LifecycleState",
    "Program",
    "ProgramMember",
    "RequirementLink",
    "StoredEvent",
]


class LifecycleState(StrEnum):
    """A design's PLM state: changes to a released design go through an ECO."""

    DRAFT = "draft"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    owner_id: str
    name: str
    description: str
    created_at: str


@dataclass(frozen=True, slots=True)
class ProgramMember:
    """A user other than the owner who may read the program and work in it."""

    program_id: str
    user_id: str
    role: str


@dataclass(frozen=True, slots=True)
class Design:
    id: str
    program_id: str
    name: str
    lifecycle_state: LifecycleState
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class DesignSessionRecord:
    """One design-engine session as stored.

    ``stage`` and ``status`` are the engine's enum values as strings: the stage machine
    owns their meaning, storage only keeps them. ``pending_run`` is the in-flight stage run
    (what ``resume`` continues), ``None`` when no run is pending. ``revision`` counts the
    committed saves; ``save_session`` takes the revision its caller read.

    ``doc`` is the full state of the session's Yjs document (the artifacts as a CRDT that
    browsers watch live), encoded as one update, ``None`` if the session has none yet (and
    on rows saved before the column existed). It is saved with the rest of the record, so a
    restarted session rebuilds the very same document: rebuilding it from ``artifacts``
    would mint new CRDT items and duplicate the content in every connected browser.
    """

    id: str
    user_id: str
    program_id: str
    design_id: str | None
    ai_chat_session_id: str | None
    title: str
    stage: str
    status: str
    artifacts: dict[str, Any]
    pending_run: dict[str, Any] | None
    created_at: str
    updated_at: str
    revision: int = 0
    doc: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One entry of a session's durable event log (what SSE replays after ``Last-Event-ID``).

    ``event_id`` is allocated by the session actor, monotonic and unique per session;
    ``data`` is the event's JSON, kept byte for byte so a replay sends what was sent live.
    """

    session_id: str
    event_id: int
    run_id: str
    data: bytes = field(repr=False)
    created_at: str


class ItemKind(StrEnum):
    """What a PLM item is; each kind numbers its items in its own series."""

    PART = "part"
    REQUIREMENT = "requirement"


@dataclass(frozen=True, slots=True)
class Item:
    """A PLM item: a part (``P-1001``) or a requirement (``REQ-0001``).

    ``item_number`` is allocated by the store from the kind's series and never reused.
    ``attributes`` is the kind's JSON: for a part its ``partType``, ``material``,
    ``parameters``...; for a requirement its ``requirementType``, ``priority``,
    ``verificationMethod``, ``rationale``. Storage keeps it as given.
    """

    id: str
    owner_id: str
    program_id: str
    kind: ItemKind
    item_number: str
    name: str
    description: str
    attributes: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class BomLine:
    """``quantity`` of ``child_item_id`` in ``parent_item_id`` within one design's BOM.

    ``parent_item_id`` is ``None`` for the design's top level (its root assembly).
    ``position`` orders the children of one parent.
    """

    id: str
    design_id: str
    parent_item_id: str | None
    child_item_id: str
    quantity: int
    position: int


@dataclass(frozen=True, slots=True)
class RequirementLink:
    """``item_id`` (a part) satisfies the requirement item ``requirement_item_id``."""

    item_id: str
    requirement_item_id: str


@dataclass(frozen=True, slots=True)
class Eco:
    """An engineering change order (``ECO-0042``) recording what a change did to a design.

    ``changes`` is JSON: the items created, the BOM lines and requirement links added.
    ``session_id`` names the design session it came from; the ECO is a record of the
    design's history, so it stays when that session is deleted.
    """

    id: str
    eco_number: str
    design_id: str
    session_id: str
    owner_id: str
    title: str
    changes: dict[str, Any]
    created_at: str
