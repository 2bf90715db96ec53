"""Stage events' JSON shapes and the event log's replay bookkeeping, by value."""

from __future__ import annotations

from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.engine.events import (
    DONE_DATA,
    SSE_DONE,
    SSE_EVENT,
    TERMINAL_TYPES,
    ArtifactUpdate,
    ClarificationNeeded,
    EventLog,
    EventType,
    LlmText,
    LoggedEvent,
    Paused,
    StageChange,
    StageComplete,
    StageError,
    StageEvent,
    ToolCall,
    ToolResult,
    UserMessage,
    event_from_json,
    parse_last_event_id,
)
from actors.engine.stages import Stage

# Every event type with exactly the spec's fields.
SHAPES: list[tuple[StageEvent, dict[str, Any]]] = [
    (StageChange(Stage.REQUIREMENTS_REVIEW), {"type": "stage_change", "stage": "requirements_review"}),
    (
        ArtifactUpdate({"requirements": []}),
        {"type": "artifact_update", "artifacts": {"requirements": []}},
    ),
    (LlmText("Based on the requirements..."), {"type": "llm_text", "text": "Based on the requirements..."}),
    (
        ToolCall("search_parts", {"query": "bearing"}),
        {"type": "tool_call", "toolName": "search_parts", "args": {"query": "bearing"}},
    ),
    (
        ToolResult("search_parts", [{"itemNumber": "P-1042"}]),
        {"type": "tool_result", "toolName": "search_parts", "result": [{"itemNumber": "P-1042"}]},
    ),
    (
        ClarificationNeeded("q-1", "Battery?", ("LiFePO4", "Li-ion")),
        {
            "type": "clarification_needed",
            "questionId": "q-1",
            "question": "Battery?",
            "options": ["LiFePO4", "Li-ion"],
        },
    ),
    (
        ClarificationNeeded("q-2", "Colour?"),
        {"type": "clarification_needed", "questionId": "q-2", "question": "Colour?"},
    ),
    (
        StageComplete(Stage.BOM_DRAFTING, "12 parts"),
        {"type": "stage_complete", "stage": "bom_drafting", "summary": "12 parts"},
    ),
    (StageError("model timed out"), {"type": "error", "message": "model timed out"}),
    (Paused("cancelled by user"), {"type": "paused", "reason": "cancelled by user"}),
    (UserMessage("m-1", "cheaper please"), {"type": "user_message", "id": "m-1", "text": "cheaper please"}),
]


@pytest.mark.parametrize(("event", "json"), SHAPES)
def test_event_json_has_exactly_the_spec_fields(event: StageEvent, json: dict[str, Any]) -> None:
    assert event.to_json() == json
    assert list(event.to_json()) == list(json)  # "type" first, then the spec's order
    assert event_from_json(json) == event


def test_every_event_type_is_covered() -> None:
    assert {json["type"] for _, json in SHAPES} == {t.value for t in EventType}
    assert {EventType.STAGE_COMPLETE, EventType.ERROR, EventType.PAUSED} == TERMINAL_TYPES
    assert (SSE_EVENT, SSE_DONE, dict(DONE_DATA)) == ("stage_event", "done", {"finished": True})


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ([], "event", "must be an object"),
        ({"type": "llm_txt", "text": "x"}, "event.type", "unknown event type 'llm_txt'"),
        ({"text": "x"}, "event.type", "unknown event type None"),
        ({"type": "llm_text"}, "event.text", "required"),
        ({"type": "llm_text", "text": 1}, "event.text", "must be a string"),
        (
            {"type": "llm_text", "text": "x", "stage": "idle"},
            "event.stage",
            "unknown key for a llm_text event",
        ),
        ({"type": "stage_change", "stage": "done"}, "event.stage", "unknown stage 'done'"),
        ({"type": "tool_call", "toolName": "t", "args": []}, "event.args", "must be an object"),
        (
            {"type": "clarification_needed", "questionId": "q", "question": "?", "options": [1]},
            "event.options",
            "must be an array of strings",
        ),
    ],
)
def test_bad_event_json_names_the_field(value: object, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        event_from_json(value)
    assert caught.value.field == field
    assert message in caught.value.message


def test_logged_event_round_trip() -> None:
    logged = LoggedEvent(7, "run-1", LlmText("hi"))
    assert logged.to_json() == {"id": 7, "runId": "run-1", "event": {"type": "llm_text", "text": "hi"}}
    assert LoggedEvent.from_json(logged.to_json()) == logged
    with pytest.raises(ValidationError) as caught:
        LoggedEvent.from_json({"id": 0, "runId": "r", "event": {"type": "llm_text", "text": ""}})
    assert caught.value.field == "loggedEvent.id"


# ---------------------------------------------------------------------------- Last-Event-ID


@pytest.mark.parametrize(
    ("header", "value"), [(None, None), ("", None), ("  ", None), ("0", 0), (" 42 ", 42)]
)
def test_parse_last_event_id(header: str | None, value: int | None) -> None:
    assert parse_last_event_id(header) == value


@pytest.mark.parametrize("header", ["abc", "-1", "1.5", "+3", "\u0663", "9" * 16, "9" * 17, "1 2"])
def test_parse_last_event_id_refuses_non_ids(header: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_last_event_id(header)
    assert caught.value.field == "Last-Event-ID"


# ---------------------------------------------------------------------------- EventLog


def _filled(count: int, *, max_events: int = 100) -> EventLog:
    log = EventLog(max_events=max_events)
    for i in range(count):
        log.append("run-a" if i < count // 2 else "run-b", LlmText(str(i + 1)))
    return log


def _ids(events: list[LoggedEvent]) -> list[int]:
    return [logged.id for logged in events]


def test_ids_are_monotonic_from_one() -> None:
    log = EventLog(max_events=10)
    assert (log.last_id, log.oldest_id, len(log)) == (0, None, 0)
    first = log.append("run-a", LlmText("a"))
    second = log.append("run-b", StageChange(Stage.IDLE))
    assert (first.id, second.id, log.last_id, log.oldest_id) == (1, 2, 2, 1)
    assert (first.run_id, first.event) == ("run-a", LlmText("a"))


def test_after_replays_what_followed_the_given_id() -> None:
    log = _filled(6)
    assert _ids(log.after(None, limit=100)) == [1, 2, 3, 4, 5, 6]
    assert _ids(log.after(0, limit=100)) == [1, 2, 3, 4, 5, 6]
    assert _ids(log.after(4, limit=100)) == [5, 6]
    assert log.after(6, limit=100) == []
    assert _ids(log.after(1, limit=2)) == [2, 3]
    assert log.run_start("run-b") == 4
    assert log.run_start("run-z") is None


def test_paged_replay_loses_and_repeats_nothing() -> None:
    log = _filled(23)
    seen: list[int] = []
    cursor: int | None = None
    while batch := log.after(cursor, limit=5):
        seen.extend(_ids(batch))
        cursor = batch[-1].id
        if len(seen) == 10:  # the run goes on while the client pages
            log.append("run-c", LlmText("more"))
    assert seen == list(range(1, 25))


def test_an_id_from_the_future_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _filled(3).after(4, limit=10)
    assert caught.value.field == "Last-Event-ID"
    assert "after the session's last event 3" in caught.value.message


def test_memory_is_bounded_and_says_what_it_covers() -> None:
    log = _filled(10, max_events=4)
    assert (len(log), log.oldest_id, log.last_id, log.max_events) == (4, 7, 10, 4)
    assert _ids(log.after(None, limit=100)) == [7, 8, 9, 10]
    assert _ids(log.after(2, limit=100)) == [7, 8, 9, 10]  # what memory holds; 3..6 are the store's
    assert log.covers(6)
    assert log.covers(9)
    assert log.covers(10)
    assert not log.covers(5)
    assert not log.covers(None)


def test_replay_through_the_store_when_memory_does_not_cover() -> None:
    store: list[LoggedEvent] = []
    log = EventLog(max_events=3)
    for i in range(8):
        store.append(log.append("run-a", LlmText(str(i))))
    last_seen = 2
    assert not log.covers(last_seen)
    oldest = log.oldest_id
    assert oldest is not None
    replay = [e for e in store if last_seen < e.id < oldest] + log.after(oldest - 1, limit=100)
    assert _ids(replay) == [3, 4, 5, 6, 7, 8]


def test_a_restarted_log_continues_the_numbering() -> None:
    store = [LoggedEvent(i, "run-a", LlmText(str(i))) for i in range(1, 7)]
    log = EventLog(max_events=3, tail=store[-3:])
    assert (log.oldest_id, log.last_id) == (4, 6)
    assert log.append("run-b", LlmText("x")).id == 7
    empty_tail = EventLog(max_events=3, last_id=41)
    assert empty_tail.covers(41)
    assert not empty_tail.covers(40)
    assert empty_tail.append("run-b", LlmText("x")).id == 42


def test_a_bad_tail_or_bound_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not contiguous"):
        EventLog(max_events=5, tail=[LoggedEvent(1, "r", LlmText("")), LoggedEvent(3, "r", LlmText(""))])
    with pytest.raises(ValueError, match="not at last_id 9"):
        EventLog(max_events=5, tail=[LoggedEvent(1, "r", LlmText(""))], last_id=9)
    with pytest.raises(ValueError, match="max_events must be at least 1"):
        EventLog(max_events=0)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        EventLog(max_events=1).after(None, limit=0)
