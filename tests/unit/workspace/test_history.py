"""The history DTO: only USER and ASSISTANT, chronological, exact field names."""

from __future__ import annotations

import pytest

from actors.workspace.history import (
    DTO_FIELDS,
    HistoryTurn,
    history_dto,
    message_dto,
    run_history,
    visible,
)
from storage.workspace.records import Message, MessageRole

from .samples import MessageRow

ROWS = [
    MessageRow("m3", "ASSISTANT", "answer 1", "r1", "2026-01-01T00:00:03.000Z", 3),
    MessageRow("m1", "USER", "question 1", "r1", "2026-01-01T00:00:01.000Z", 1),
    MessageRow("m4", "SYSTEM", "run r2 failed: worker died", "r2", "2026-01-01T00:00:04.000Z", 4),
    MessageRow("m5", "USER", "question 2", "r2", "2026-01-01T00:00:05.000Z", 5),
    MessageRow("m6", "TOOL", "internal", None, "2026-01-01T00:00:06.000Z", 6),
    MessageRow("m7", "ASSISTANT", "answer 2", None, "2026-01-01T00:00:00.000Z", 7),
]


def test_only_user_and_assistant_in_append_order() -> None:
    assert [m.id for m in visible(ROWS)] == ["m1", "m3", "m5", "m7"]
    # m7's clock is earliest, but the order is the append order (seq).
    assert [m.id for m in visible(ROWS, 2)] == ["m5", "m7"]
    assert visible(ROWS, 0) == []
    assert [m.id for m in visible(ROWS, 200)] == ["m1", "m3", "m5", "m7"]
    with pytest.raises(ValueError, match="limit must not be negative, not -1"):
        visible(ROWS, -1)


def test_the_dto_has_exactly_the_documented_fields() -> None:
    dto = history_dto(ROWS)
    assert all(tuple(entry) == DTO_FIELDS for entry in dto)
    assert dto[0] == {
        "id": "m1",
        "role": "USER",
        "content": "question 1",
        "createdAt": "2026-01-01T00:00:01.000Z",
        "runId": "r1",
    }
    assert dto[-1]["runId"] is None
    assert not any("failed" in str(entry["content"]) for entry in dto)


def test_store_records_work_and_roles_print_as_values() -> None:
    record = Message("m1", "s1", MessageRole.ASSISTANT, "hi", None, "2026-01-01T00:00:00.000Z", 1)
    system = Message("m2", "s1", MessageRole.SYSTEM, "secret", None, "2026-01-01T00:00:00.000Z", 2)
    assert message_dto(record)["role"] == "ASSISTANT"
    assert history_dto([record, system]) == [message_dto(record)]


def test_run_history_is_bounded_turns() -> None:
    assert run_history(ROWS, 3) == (
        HistoryTurn("ASSISTANT", "answer 1"),
        HistoryTurn("USER", "question 2"),
        HistoryTurn("ASSISTANT", "answer 2"),
    )
    assert run_history(ROWS, 0) == ()
