"""Stage events (the spec's ``StageEvent``) and the per-session event log's bookkeeping.

Each event type is a small frozen dataclass whose ``to_json()`` has exactly the spec's
field names (``tool_call`` -> ``{"type", "toolName", "args"}``); ``event_from_json`` reads
one back, e.g. from the durable log. On the wire every event is an SSE ``stage_event``
whose ``data`` is that JSON and whose ``id`` is the event's log id; a stream ends with
``done`` / ``{"finished": true}``.

A run ends with exactly one terminal event (``TERMINAL_TYPES``): ``stage_complete``,
``error`` or ``paused``. A run that stops to ask the user emits ``clarification_needed``
and then ``paused``, so a client rejoining with ``Last-Event-ID`` can tell a finished run
from a live one by the log alone.

``EventLog`` numbers a session's events 1, 2, 3, ... (monotonic across runs and across
restarts: it is built from the stored tail) and keeps the newest ``max_events`` in
memory. Replay after an id the memory no longer covers is the caller's read from the
store: ``covers()`` / ``oldest_id`` say when.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Any, ClassVar

from actors.core.errors import ValidationError
from actors.core.values import MAX_SAFE_INTEGER

from .stages import Stage

__all__ = [
    "DONE_DATA",
    "SSE_DONE",
    "SSE_EVENT",
    "TERMINAL_TYPES",
    "ArtifactUpdate",
    "ClarificationNeeded",
    "EventLog",
    "EventType",
    "LlmText",
    "LoggedEvent",
    "Paused",
    "StageChange",
    "StageComplete",
    "StageError",
    "StageEvent",
    "ToolCall",
    "ToolResult",
    "UserMessage",
    "event_from_json",
    "parse_last_event_id",
]

SSE_EVENT = "stage_event"
SSE_DONE = "done"
DONE_DATA: Mapping[str, bool] = {"finished": True}


class EventType(StrEnum):
    STAGE_CHANGE = "stage_change"
    ARTIFACT_UPDATE = "artifact_update"
    LLM_TEXT = "llm_text"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    CLARIFICATION_NEEDED = "clarification_needed"
    STAGE_COMPLETE = "stage_complete"
    ERROR = "error"
    PAUSED = "paused"
    USER_MESSAGE = "user_message"


TERMINAL_TYPES: frozenset[EventType] = frozenset(
    {EventType.STAGE_COMPLETE, EventType.ERROR, EventType.PAUSED}
)


@dataclass(frozen=True, slots=True)
class StageChange:
    type: ClassVar[EventType] = EventType.STAGE_CHANGE
    stage: Stage

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "stage": self.stage.value}


@dataclass(frozen=True, slots=True)
class ArtifactUpdate:
    """Partial artifacts to merge into the session state (top-level keys replace)."""

    type: ClassVar[EventType] = EventType.ARTIFACT_UPDATE
    artifacts: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "artifacts": dict(self.artifacts)}


@dataclass(frozen=True, slots=True)
class LlmText:
    type: ClassVar[EventType] = EventType.LLM_TEXT
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "text": self.text}


@dataclass(frozen=True, slots=True)
class ToolCall:
    type: ClassVar[EventType] = EventType.TOOL_CALL
    tool_name: str
    args: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "toolName": self.tool_name, "args": dict(self.args)}


@dataclass(frozen=True, slots=True)
class ToolResult:
    type: ClassVar[EventType] = EventType.TOOL_RESULT
    tool_name: str
    result: Any

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "toolName": self.tool_name, "result": self.result}


@dataclass(frozen=True, slots=True)
class ClarificationNeeded:
    type: ClassVar[EventType] = EventType.CLARIFICATION_NEEDED
    question_id: str
    question: str
    options: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type.value,
            "questionId": self.question_id,
            "question": self.question,
        }
        if self.options is not None:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class StageComplete:
    type: ClassVar[EventType] = EventType.STAGE_COMPLETE
    stage: Stage
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "stage": self.stage.value, "summary": self.summary}


@dataclass(frozen=True, slots=True)
class StageError:
    """The spec's ``error`` event (named so it is not mistaken for an exception)."""

    type: ClassVar[EventType] = EventType.ERROR
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class Paused:
    type: ClassVar[EventType] = EventType.PAUSED
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class UserMessage:
    type: ClassVar[EventType] = EventType.USER_MESSAGE
    id: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "id": self.id, "text": self.text}


StageEvent = (
    StageChange
    | ArtifactUpdate
    | LlmText
    | ToolCall
    | ToolResult
    | ClarificationNeeded
    | StageComplete
    | StageError
    | Paused
    | UserMessage
)


def event_from_json(value: object, field: str = "event") -> StageEvent:
    """A stage event from its spec JSON; unknown types and keys are refused by name."""
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    raw_type = value.get("type")
    try:
        if not isinstance(raw_type, str):
            raise ValueError(raw_type)
        kind = EventType(raw_type)
    except ValueError:
        allowed = ", ".join(t.value for t in EventType)
        raise ValidationError(
            f"{field}.type", f"unknown event type {raw_type!r} (allowed: {allowed})"
        ) from None
    keys, optional = _EVENT_KEYS[kind]
    for key in value:
        if key != "type" and key not in keys and key not in optional:
            raise ValidationError(f"{field}.{key}", f"unknown key for a {kind.value} event")
    for key in keys:
        if key not in value:
            raise ValidationError(f"{field}.{key}", "required")

    def text(key: str) -> str:
        item = value[key]
        if not isinstance(item, str):
            raise ValidationError(f"{field}.{key}", "must be a string")
        return item

    def obj(key: str) -> Mapping[str, Any]:
        item = value[key]
        if not isinstance(item, Mapping):
            raise ValidationError(f"{field}.{key}", "must be an object")
        return dict(item)

    def stage(key: str) -> Stage:
        try:
            return Stage(text(key))
        except ValueError:
            raise ValidationError(f"{field}.{key}", f"unknown stage {value[key]!r}") from None

    if kind is EventType.STAGE_CHANGE:
        return StageChange(stage("stage"))
    if kind is EventType.ARTIFACT_UPDATE:
        return ArtifactUpdate(obj("artifacts"))
    if kind is EventType.LLM_TEXT:
        return LlmText(text("text"))
    if kind is EventType.TOOL_CALL:
        return ToolCall(text("toolName"), obj("args"))
    if kind is EventType.TOOL_RESULT:
        return ToolResult(text("toolName"), value["result"])
    if kind is EventType.CLARIFICATION_NEEDED:
        options = value.get("options")
        if options is not None and not (
            isinstance(options, list) and all(isinstance(o, str) for o in options)
        ):
            raise ValidationError(f"{field}.options", "must be an array of strings")
        return ClarificationNeeded(
            text("questionId"), text("question"), None if options is None else tuple(options)
        )
    if kind is EventType.STAGE_COMPLETE:
        return StageComplete(stage("stage"), text("summary"))
    if kind is EventType.ERROR:
        return StageError(text("message"))
    if kind is EventType.PAUSED:
        return Paused(text("reason"))
    return UserMessage(text("id"), text("text"))


# type -> (required keys, optional keys), "type" itself excluded.
_EVENT_KEYS: Mapping[EventType, tuple[tuple[str, ...], tuple[str, ...]]] = {
    EventType.STAGE_CHANGE: (("stage",), ()),
    EventType.ARTIFACT_UPDATE: (("artifacts",), ()),
    EventType.LLM_TEXT: (("text",), ()),
    EventType.TOOL_CALL: (("toolName", "args"), ()),
    EventType.TOOL_RESULT: (("toolName", "result"), ()),
    EventType.CLARIFICATION_NEEDED: (("questionId", "question"), ("options",)),
    EventType.STAGE_COMPLETE: (("stage", "summary"), ()),
    EventType.ERROR: (("message",), ()),
    EventType.PAUSED: (("reason",), ()),
    EventType.USER_MESSAGE: (("id", "text"), ()),
}


# ---------------------------------------------------------------------------- the log


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as the session's log holds it: its id (the SSE id) and the run it belongs to."""

    id: int
    run_id: str
    event: StageEvent

    def to_json(self) -> dict[str, Any]:
        """The stored form (not the SSE data, which is ``event.to_json()``)."""
        return {"id": self.id, "runId": self.run_id, "event": self.event.to_json()}

    @classmethod
    def from_json(cls, value: object, field: str = "loggedEvent") -> LoggedEvent:
        if not isinstance(value, Mapping):
            raise ValidationError(field, "must be an object")
        event_id = value.get("id")
        if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id < 1:
            raise ValidationError(f"{field}.id", "must be a positive integer")
        run_id = value.get("runId")
        if not isinstance(run_id, str):
            raise ValidationError(f"{field}.runId", "must be a string")
        return cls(event_id, run_id, event_from_json(value.get("event"), f"{field}.event"))


# Header values longer than this cannot be a safe integer; refusing early keeps a hostile
# header from costing an arbitrarily long int() parse.
_MAX_ID_DIGITS = len(str(MAX_SAFE_INTEGER))


def parse_last_event_id(header: str | None, field: str = "Last-Event-ID") -> int | None:
    """The ``Last-Event-ID`` header as an event id; None when absent or empty.

    An empty value is what a browser's EventSource sends before it has seen an id.
    """
    if header is None or not header.strip():
        return None
    value = header.strip()
    if len(value) > _MAX_ID_DIGITS or not value.isascii() or not value.isdigit():
        raise ValidationError(field, f"must be a non-negative integer event id, got {value[:40]!r}")
    event_id = int(value)
    if event_id > MAX_SAFE_INTEGER:
        raise ValidationError(field, "event id out of range")
    return event_id


class EventLog:
    """The in-memory tail of one session's durable event log (pure bookkeeping).

    ``append`` assigns the next id; the caller writes the ``LoggedEvent`` to the store.
    A restarted session passes the stored ``tail`` (contiguous ascending ids, as this class
    produces them) and, when the tail is empty, the store's ``last_id``, so ids never
    repeat across restarts. At most ``max_events`` events are held.
    """

    def __init__(self, *, max_events: int, tail: Iterable[LoggedEvent] = (), last_id: int = 0) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._events: deque[LoggedEvent] = deque(maxlen=max_events)
        self._last_id = last_id
        previous: int | None = None
        for logged in tail:
            if previous is not None and logged.id != previous + 1:
                raise ValueError(f"stored tail is not contiguous: {previous} then {logged.id}")
            previous = logged.id
            self._events.append(logged)
        if previous is not None:
            if last_id not in (0, previous):
                raise ValueError(f"stored tail ends at {previous}, not at last_id {last_id}")
            self._last_id = previous

    @property
    def max_events(self) -> int:
        assert self._events.maxlen is not None
        return self._events.maxlen

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 before the first)."""
        return self._last_id

    @property
    def oldest_id(self) -> int | None:
        """The id of the oldest event held in memory; None when none is held."""
        return self._events[0].id if self._events else None

    def __len__(self) -> int:
        return len(self._events)

    def append(self, run_id: str, event: StageEvent) -> LoggedEvent:
        self._last_id += 1
        logged = LoggedEvent(self._last_id, run_id, event)
        self._events.append(logged)
        return logged

    def covers(self, last_event_id: int | None) -> bool:
        """Whether memory holds every event after ``last_event_id`` (None: after 0).

        When False the caller reads ids ``last_event_id + 1 .. oldest_id - 1`` from the
        store, then continues with ``after(oldest_id - 1)``.
        """
        after_id = last_event_id or 0
        if after_id >= self.last_id:
            return True
        oldest = self.oldest_id
        return oldest is not None and oldest <= after_id + 1

    def after(self, last_event_id: int | None, *, limit: int) -> list[LoggedEvent]:
        """Up to ``limit`` held events with ids above ``last_event_id``, oldest first.

        None means "from the start": every held event. An id above ``last_id`` cannot come
        from this session's log and is refused (``ValidationError`` naming
        Last-Event-ID), rather than silently starving a client forever.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after_id = last_event_id or 0
        if after_id > self.last_id:
            raise ValidationError(
                "Last-Event-ID", f"event {after_id} is after the session's last event {self.last_id}"
            )
        oldest = self.oldest_id
        if oldest is None:
            return []
        # Ids in memory are contiguous, so the start is an index, not a search.
        start = max(0, after_id + 1 - oldest)
        return list(islice(self._events, start, start + limit))

    def run_start(self, run_id: str) -> int | None:
        """The id of the first held event of ``run_id`` (where a joiner's replay starts)."""
        for logged in self._events:
            if logged.run_id == run_id:
                return logged.id
        return None
