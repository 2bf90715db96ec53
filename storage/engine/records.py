"""Plain records of the design engine's durable state (picklable: they cross the Ray boundary).

Timestamps are ISO 8601 strings in UTC with milliseconds (``storage.records.utc_now_iso``),
stored as given on both backends, so a record reads back exactly as it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Design",
    "DesignSessionRecord",
    "LifecycleState",
    "Program",
    "ProgramMember",
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
