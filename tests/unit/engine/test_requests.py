"""A stage action's checks after decoding, by value."""

from __future__ import annotations

from typing import Any

import pytest

from actors.core.bodies import convert_body
from actors.core.errors import ValidationError
from actors.engine.bodies import StageActionBody
from actors.engine.requests import check_answer, check_part, check_stream_request
from actors.engine.stages import Action

from . import samples


def _body(**fields: Any) -> StageActionBody:
    return convert_body(fields, StageActionBody)


def test_an_action_with_its_fields_passes() -> None:
    check_stream_request(_body(action="start_bom"))
    check_stream_request(
        _body(action="answer_clarification", questionId="q-1", answer="LiFePO4", message=None)
    )
    check_stream_request(_body(action="regenerate_part", tempId="frame", feedback="thicker walls"))
    # Another action's fields are ignored when valid: one form may serve every action.
    check_stream_request(_body(action="start_bom", tempId="frame", message="hi"))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"action": "send_message"}, "message", "required non-empty string for send_message"),
        ({"action": "send_message", "message": "  "}, "message", "required non-empty string"),
        ({"action": "answer_clarification", "answer": "a"}, "questionId", "required non-empty string"),
        ({"action": "answer_clarification", "questionId": "q"}, "answer", "required non-empty string"),
        ({"action": "regenerate_part"}, "tempId", "required non-empty string for regenerate_part"),
        ({"action": "send_message", "message": "x" * 11}, "message", "must be at most 10 characters"),
        ({"action": "start_bom", "feedback": "x" * 11}, "feedback", "must be at most 10 characters"),
    ],
)
def test_missing_or_long_texts_name_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_stream_request(_body(**fields), max_text_chars=10)
    assert caught.value.field == field
    assert message in caught.value.message


def test_check_answer_against_the_pending_clarification() -> None:
    artifacts: dict[str, Any] = samples.artifacts()
    request = StageActionBody(action=Action.ANSWER_CLARIFICATION, question_id="q-1", answer="a")
    check_answer(request, artifacts)
    with pytest.raises(ValidationError, match="'q-0' is not the pending clarification 'q-1'") as caught:
        check_answer(
            StageActionBody(action=Action.ANSWER_CLARIFICATION, question_id="q-0", answer="a"), artifacts
        )
    assert caught.value.field == "questionId"
    del artifacts["pendingClarificationId"]
    with pytest.raises(ValidationError, match="no clarification is pending"):
        check_answer(request, artifacts)


def test_check_part_finds_the_bom_node() -> None:
    artifacts = samples.artifacts()
    tube = StageActionBody(action=Action.REGENERATE_PART, temp_id="tube")
    assert check_part(tube, artifacts)["quantity"] == 4
    with pytest.raises(ValidationError) as caught:
        check_part(StageActionBody(action=Action.REGENERATE_PART, temp_id="wing"), artifacts)
    assert caught.value.field == "tempId"
