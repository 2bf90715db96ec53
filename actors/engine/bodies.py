"""What the design-engine session routes accept: request bodies and query parameters, typed
once (pure).

The gateway decodes each request as one of these types (``actors.core.bodies``), the op
carries it to the session's host, and the published OpenAPI document is generated from the
same classes. What a type cannot say is checked after decoding, once each:

- a stream action's own fields (``questionId`` and ``answer`` for answer_clarification,
  ``message`` for send_message, ``tempId`` for regenerate_part) and the text limit, a
  setting: ``requests.check_stream_request``;
- a description that is only blanks or past the text limit: ``artifacts.validate_description``
  and the service's setting check;
- an artifacts patch, checked against the engine's artifact model (the one the LLM's drafts
  meet too) and the session's current artifacts: ``artifacts.merge_artifacts``;
- a stage move's prerequisites: ``stages.validate_stage_patch``;
- page sizes past the server's limit: the routes and ``EngineService.events``.

The PLM routes' bodies are in ``plm_bodies.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from ..core.bodies import Body, Query
from ..core.values import MAX_SAFE_INTEGER
from .events import parse_last_event_id
from .stages import Action, Stage, may_stream

__all__ = [
    "MAX_ID_CHARS",
    "CreateDesignSessionBody",
    "EventsQuery",
    "PatchDesignSessionBody",
    "RejoinQuery",
    "SessionsQuery",
    "StageActionBody",
]

MAX_ID_CHARS = 128
_MAX_EVENT_ID_DIGITS = 16

Id = Annotated[str, Meta(min_length=1, max_length=MAX_ID_CHARS)]
Count = Annotated[int, Meta(ge=0, le=MAX_SAFE_INTEGER)]
_Text = Annotated[str, Meta(description="At most the server's text limit (20 000 by default).")]


def _for(*actions: Action, optional: bool = False) -> Any:
    names = ", ".join(action.value for action in actions)
    return Meta(description=f"For {names}{' (optional)' if optional else ''}.")


# -- design sessions ---------------------------------------------------------------------


class CreateDesignSessionBody(Body, frozen=True):
    description: Annotated[str, Meta(min_length=1, description="The design brief (not blank).")]
    program_id: Annotated[Id, Meta(description="The program the session works in.")]
    design_id: (
        Annotated[Id, Meta(description="An existing design of the program to materialize into.")] | None
    ) = None
    ai_chat_session_id: Annotated[Id, Meta(description="An AI chat session to link.")] | None = None


class PatchDesignSessionBody(Body, frozen=True):
    """Absent fields are left as they are."""

    description: (
        Annotated[str, Meta(min_length=1, description="The design brief (not blank).")] | UnsetType
    ) = UNSET
    # The artifacts are the engine's model, checked key by key against the session's
    # (``merge_artifacts``): the same checks the LLM's drafts meet.
    artifacts: (
        Annotated[
            dict[str, Any],
            Meta(description="Merged into the session's artifacts: each key given replaces the stored one."),
        ]
        | UnsetType
    ) = UNSET
    stage: (
        Annotated[
            Stage, Meta(description="Move to this stage (back, or forward as far as the artifacts allow).")
        ]
        | UnsetType
    ) = UNSET


class StageActionBody(Body, frozen=True):
    """A stage action. Fields other than the action's are ignored (a client may send one form
    for every action); unknown fields are refused."""

    action: Action
    question_id: Annotated[_Text, _for(Action.ANSWER_CLARIFICATION)] | None = None
    answer: Annotated[_Text, _for(Action.ANSWER_CLARIFICATION)] | None = None
    message: Annotated[_Text, _for(Action.SEND_MESSAGE)] | None = None
    temp_id: Annotated[_Text, _for(Action.REGENERATE_PART)] | None = None
    feedback: Annotated[_Text, _for(Action.REGENERATE_PART, optional=True)] | None = None

    def may_stream(self) -> bool:
        """Whether this action can be answered with a stream in some stage (it then needs a
        stream slot before it starts)."""
        return may_stream(self.action)


_PageSize = Annotated[
    int, Meta(ge=1, le=MAX_SAFE_INTEGER, description="Page size (1 to the server's limit; default 50).")
]


class SessionsQuery(Query, frozen=True):
    limit: _PageSize | None = None
    offset: Annotated[Count, Meta(description="Skip this many.")] = 0


class EventsQuery(Query, frozen=True):
    after: Annotated[Count, Meta(description="Only events after this id (none: from the first).")] | None = (
        None
    )
    limit: _PageSize | None = None


class RejoinQuery(Query, frozen=True):
    # Read by the parser of the ``Last-Event-ID`` header it stands in for, which takes an
    # empty value (what EventSource sends before it has seen an id) as none.
    last_event_id: (
        Annotated[
            str,
            Meta(
                max_length=_MAX_EVENT_ID_DIGITS,
                description="As the `Last-Event-ID` header (digits; empty: from the first).",
            ),
        ]
        | None
    ) = None

    def after(self, header: str | None) -> int | None:
        """The event id to resume after: the ``Last-Event-ID`` header's, else this query's."""
        return parse_last_event_id(header or self.last_event_id)
