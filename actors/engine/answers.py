"""What the design engine's operations answer, typed once (pure).

Each op in ``ops.py`` names one of these as its answer (``Op[DesignSession]``): the host
sends it as plain values and the session client rebuilds and checks it, refusing a field
the type does not know, so a host and its type cannot drift apart unnoticed. The gateway
writes them out as JSON under ``data`` and the OpenAPI document's answer schemas are
generated from the same types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..core.answers import Answer
from .stages import Stage, Status, legal_actions

__all__ = [
    "ActionAnswer",
    "Answer",
    "CreatedItem",
    "DesignSession",
    "DesignSessionCreated",
    "DesignSessionSummary",
    "EventsPage",
    "FileAnswer",
    "MaterializationPreview",
    "MaterializationResult",
    "PreviewItem",
    "RunStart",
    "StageEventEntry",
    "StageEventsPage",
    "action_table",
]


class DesignSessionSummary(Answer, frozen=True):
    id: str
    title: str
    stage: Stage
    status: Status
    created_at: str
    updated_at: str


class DesignSessionCreated(DesignSessionSummary, frozen=True):
    #: The design workspace page of the session.
    workspace_url: str


_ARTIFACTS = Meta(
    description="DesignArtifacts: description, requirements, bom, clarifications, userMessages, ..."
)


class DesignSession(DesignSessionCreated, frozen=True):
    user_id: str
    program_id: str
    design_id: str | None
    ai_chat_session_id: str | None
    artifacts: Annotated[
        dict[str, Any],
        Meta(
            description="DesignArtifacts: description, requirements, bom, clarifications, userMessages, ..."
        ),
    ]


class RunStart(Answer, frozen=True):
    """A stage run to stream: its id, and the event id its events follow."""

    run_id: str
    after: int


class ActionAnswer(Answer, frozen=True):
    """What a stage action came to: a JSON answer (a confirmation, a cancel, an
    acknowledged message) or a run to stream."""

    json: dict[str, Any] | UnsetType = UNSET
    stream: RunStart | UnsetType = UNSET


class EventsPage(Answer, frozen=True, array_like=True):
    """Committed stage events after an id: ``(id, run id, event JSON, terminal)`` each,
    whether more follow, and the live run's id."""

    events: list[tuple[int, str, bytes, bool]]
    more: bool
    live_run: str | None


class StageEventEntry(Answer, frozen=True):
    id: Annotated[int, Meta(ge=1, description="The event's log id, as SSE's `id:` (`Last-Event-ID`).")]
    run_id: str
    event: Annotated[dict[str, Any], Meta(description='A StageEvent: `{"type": "llm_text", ...}`.')]


class StageEventsPage(Answer, frozen=True):
    """Committed stage events after ``after``, oldest first, as JSON (what SSE streams)."""

    events: list[StageEventEntry]
    #: Pass as ``after`` for the next page.
    last_event_id: int | None
    #: More events follow now.
    more: bool
    #: The run still under way, if any.
    live_run: str | None

    @classmethod
    def of(cls, found: EventsPage, after: int | None) -> StageEventsPage:
        events = [
            StageEventEntry(id=event_id, run_id=run_id, event=msgspec.json.decode(data))
            for event_id, run_id, data, _ in found.events
        ]
        last = events[-1].id if events else after
        return cls(events=events, last_event_id=last, more=found.more, live_run=found.live_run)


class PreviewItem(Answer, frozen=True):
    temp_id: str
    name: str
    item_type: Literal["Part", "Requirement"]
    is_new: bool
    existing_item_number: str | UnsetType = UNSET


class MaterializationPreview(Answer, frozen=True):
    new_parts_count: int
    reused_parts_count: int
    new_requirements_count: int
    bom_relationships_count: int
    requires_eco: bool
    target_design_id: str | None
    items: list[PreviewItem]


class CreatedItem(Answer, frozen=True):
    temp_id: str
    item_id: str
    item_number: str
    item_type: str
    name: str


class MaterializationResult(Answer, frozen=True):
    design_id: str
    eco_id: str | None
    eco_number: str | None
    created_items: list[CreatedItem]
    bom_relationships_created: int


class FileAnswer(Answer, frozen=True, array_like=True):
    """A generated file's bytes and media type."""

    data: bytes
    content_type: str


def action_table() -> dict[str, dict[str, list[list[str]]]]:
    """stage -> status -> the legal actions [plain, running, clarification pending, both],
    from the engine's own transition table so the page never offers what it would refuse."""
    table: dict[str, dict[str, list[list[str]]]] = {}
    for stage in Stage:
        table[stage.value] = {}
        for status in Status:
            table[stage.value][status.value] = [
                [a.value for a in legal_actions(stage, status, has_pending_clarification=p, running=r)]
                for p in (False, True)
                for r in (False, True)
            ]
    return table
