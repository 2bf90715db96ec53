"""The body of ``POST /api/design-engine/sessions/:id/stream``, checked by value (pure).

``parse_stream_request`` checks shapes and the spec's conditional fields (``questionId``
and ``answer`` for answer_clarification, ``message`` for send_message, ``tempId`` for
regenerate_part); whether the action is legal now is ``stages.plan``'s question, and
whether the ids name something in the session is ``check_answer`` / ``check_part``'s.

Fields other than the action's are ignored when valid (a client may send one form for
every action), but unknown keys are refused by name, and every text is bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actors.core.errors import ValidationError
from actors.core.values import check_str

from .artifacts import find_bom_node
from .stages import Action, parse_action

__all__ = [
    "DEFAULT_MAX_TEXT_CHARS",
    "StreamRequest",
    "check_answer",
    "check_part",
    "parse_stream_request",
]

DEFAULT_MAX_TEXT_CHARS = 20_000

_TEXT_FIELDS = ("questionId", "answer", "message", "tempId", "feedback")

# action -> the fields it requires (as non-empty strings).
_REQUIRED: Mapping[Action, tuple[str, ...]] = {
    Action.ANSWER_CLARIFICATION: ("questionId", "answer"),
    Action.SEND_MESSAGE: ("message",),
    Action.REGENERATE_PART: ("tempId",),
}


@dataclass(frozen=True, slots=True)
class StreamRequest:
    action: Action
    question_id: str | None = None
    answer: str | None = None
    message: str | None = None
    temp_id: str | None = None
    feedback: str | None = None


def parse_stream_request(body: object, *, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> StreamRequest:
    if not isinstance(body, Mapping):
        raise ValidationError("body", "must be a JSON object")
    for key in body:
        if key != "action" and key not in _TEXT_FIELDS:
            allowed = ", ".join(("action", *_TEXT_FIELDS))
            raise ValidationError(str(key), f"unknown key (allowed: {allowed})")
    action = parse_action(body.get("action"))
    texts: dict[str, str | None] = {}
    for key in _TEXT_FIELDS:
        value = body.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise ValidationError(key, "must be a string")
            if len(value) > max_text_chars:
                raise ValidationError(key, f"at most {max_text_chars} characters")
            check_str(value, key)
        texts[key] = value
    for key in _REQUIRED.get(action, ()):
        value = texts[key]
        if value is None or not value.strip():
            raise ValidationError(key, f"required non-empty string for {action.value}")
    return StreamRequest(
        action,
        question_id=texts["questionId"],
        answer=texts["answer"],
        message=texts["message"],
        temp_id=texts["tempId"],
        feedback=texts["feedback"],
    )


def check_answer(request: StreamRequest, artifacts: Mapping[str, Any]) -> None:
    """``questionId`` must be the session's pending clarification."""
    pending = artifacts.get("pendingClarificationId")
    if pending is None:
        raise ValidationError("questionId", "no clarification is pending")
    if request.question_id != pending:
        raise ValidationError(
            "questionId", f"'{request.question_id}' is not the pending clarification '{pending}'"
        )


def check_part(request: StreamRequest, artifacts: Mapping[str, Any]) -> dict[str, Any]:
    """The BOM node ``tempId`` names (for regenerate_part)."""
    node = find_bom_node(artifacts.get("bom"), request.temp_id or "")
    if node is None:
        raise ValidationError("tempId", f"no part '{request.temp_id}' in the session's BOM")
    return node
