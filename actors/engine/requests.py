"""What a stage action's body must hold beyond its type (pure): the checks after decoding.

``StageActionBody`` (``bodies.py``) says the shapes; ``check_stream_request`` the spec's
conditional fields (``questionId`` and ``answer`` for answer_clarification, ``message`` for
send_message, ``tempId`` for regenerate_part) and the text limit, a setting. Whether the
action is legal now is ``stages.plan``'s question, and whether the ids name something in
the session is ``check_answer`` / ``check_part``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.core.errors import ValidationError
from actors.core.values import check_str

from .artifacts import find_bom_node
from .bodies import StageActionBody
from .stages import Action

__all__ = ["DEFAULT_MAX_TEXT_CHARS", "check_answer", "check_part", "check_stream_request"]

DEFAULT_MAX_TEXT_CHARS = 20_000

# action -> the fields it requires (as non-blank strings), by their names on the wire.
_REQUIRED: Mapping[Action, tuple[str, ...]] = {
    Action.ANSWER_CLARIFICATION: ("questionId", "answer"),
    Action.SEND_MESSAGE: ("message",),
    Action.REGENERATE_PART: ("tempId",),
}


def _texts(body: StageActionBody) -> dict[str, str | None]:
    return {
        "questionId": body.question_id,
        "answer": body.answer,
        "message": body.message,
        "tempId": body.temp_id,
        "feedback": body.feedback,
    }


def check_stream_request(body: StageActionBody, *, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> None:
    """``ValidationError`` naming the field when a text is too long or one the action needs
    is missing or blank."""
    texts = _texts(body)
    for key, value in texts.items():
        if value is None:
            continue
        if len(value) > max_text_chars:
            raise ValidationError(key, f"must be at most {max_text_chars} characters")
        check_str(value, key)  # the texts go into the session's document
    for key in _REQUIRED.get(body.action, ()):
        value = texts[key]
        if value is None or not value.strip():
            raise ValidationError(key, f"required non-empty string for {body.action.value}")


def check_answer(body: StageActionBody, artifacts: Mapping[str, Any]) -> None:
    """``questionId`` must be the session's pending clarification."""
    pending = artifacts.get("pendingClarificationId")
    if pending is None:
        raise ValidationError("questionId", "no clarification is pending")
    if body.question_id != pending:
        raise ValidationError(
            "questionId", f"'{body.question_id}' is not the pending clarification '{pending}'"
        )


def check_part(body: StageActionBody, artifacts: Mapping[str, Any]) -> dict[str, Any]:
    """The BOM node ``tempId`` names (for regenerate_part)."""
    node = find_bom_node(artifacts.get("bom"), body.temp_id or "")
    if node is None:
        raise ValidationError("tempId", f"no part '{body.temp_id}' in the session's BOM")
    return node
