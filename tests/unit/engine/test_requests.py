"""The stream endpoint's body, checked by value."""

from __future__ import annotations

from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.engine.requests import StreamRequest, check_answer, check_part, parse_stream_request
from actors.engine.stages import Action

from . import samples


def test_parse_stream_request() -> None:
    assert parse_stream_request({"action": "start_bom"}) == StreamRequest(Action.START_BOM)
    assert parse_stream_request(
        {"action": "answer_clarification", "questionId": "q-1", "answer": "LiFePO4", "message": None}
    ) == StreamRequest(Action.ANSWER_CLARIFICATION, question_id="q-1", answer="LiFePO4")
    assert parse_stream_request(
        {"action": "regenerate_part", "tempId": "frame", "feedback": "thicker walls"}
    ) == StreamRequest(Action.REGENERATE_PART, temp_id="frame", feedback="thicker walls")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be a JSON object"),
        ({}, "action", "required string"),
        ({"action": "start"}, "action", "unknown action 'start'"),
        ({"action": "send_message"}, "message", "required non-empty string for send_message"),
        ({"action": "send_message", "message": "  "}, "message", "required non-empty string"),
        ({"action": "answer_clarification", "answer": "a"}, "questionId", "required non-empty string"),
        ({"action": "answer_clarification", "questionId": "q"}, "answer", "required non-empty string"),
        ({"action": "regenerate_part"}, "tempId", "required non-empty string for regenerate_part"),
        ({"action": "regenerate_part", "tempId": 3}, "tempId", "must be a string"),
        ({"action": "start_bom", "mesage": "hi"}, "mesage", "unknown key"),
        ({"action": "send_message", "message": "x" * 11}, "message", "at most 10 characters"),
    ],
)
def test_bad_bodies_name_the_field(body: object, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_stream_request(body, max_text_chars=10)
    assert caught.value.field == field
    assert message in caught.value.message


def test_check_answer_against_the_pending_clarification() -> None:
    artifacts: dict[str, Any] = samples.artifacts()
    request = StreamRequest(Action.ANSWER_CLARIFICATION, question_id="q-1", answer="a")
    check_answer(request, artifacts)
    with pytest.raises(ValidationError, match="'q-0' is not the pending clarification 'q-1'") as caught:
        check_answer(StreamRequest(Action.ANSWER_CLARIFICATION, question_id="q-0", answer="a"), artifacts)
    assert caught.value.field == "questionId"
    del artifacts["pendingClarificationId"]
    with pytest.raises(ValidationError, match="no clarification is pending"):
        check_answer(request, artifacts)


def test_check_part_finds_the_bom_node() -> None:
    artifacts = samples.artifacts()
    assert check_part(StreamRequest(Action.REGENERATE_PART, temp_id="tube"), artifacts)["quantity"] == 4
    with pytest.raises(ValidationError) as caught:
        check_part(StreamRequest(Action.REGENERATE_PART, temp_id="wing"), artifacts)
    assert caught.value.field == "tempId"
