"""The design engine's operations on a session host, each with its answer's type
(``answers.py``; ``actors/core/ops.py`` says how ops work). Every one names the calling
user: a design session answers its owner only."""

from __future__ import annotations

from typing import Any, ClassVar

from ..core.ids import new_session_id
from ..core.ops import Op
from .answers import (
    ActionAnswer,
    DesignSession,
    DesignSessionCreated,
    EventsPage,
    FileAnswer,
    MaterializationPreview,
    MaterializationResult,
)
from .bodies import CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody

__all__ = [
    "ActDesign",
    "CreateDesign",
    "DesignFile",
    "GetDesign",
    "ListEvents",
    "ListenDesign",
    "Materialize",
    "PatchDesign",
    "PreviewMaterialization",
]


class CreateDesign(Op[DesignSessionCreated], tag="engine.create", frozen=True):
    """A new design session under ``session_id``; the engine checks what the body's type
    cannot say (the program and design are the user's to read)."""

    user: str
    body: CreateDesignSessionBody
    retry: ClassVar[bool] = False

    @classmethod
    def new(cls, user: str, body: CreateDesignSessionBody) -> CreateDesign:
        """A design session under a new id."""
        return cls(new_session_id(), user, body)


class GetDesign(Op[DesignSession], tag="engine.get", frozen=True):
    user: str


class PatchDesign(Op[DesignSession], tag="engine.patch", frozen=True):
    user: str
    body: PatchDesignSessionBody
    retry: ClassVar[bool] = False


class ActDesign(Op[ActionAnswer], tag="engine.act", frozen=True):
    """A stage action (start, confirm, send a message…): answers what it started."""

    user: str
    body: StageActionBody
    retry: ClassVar[bool] = False


class ListenDesign(Op[Any], tag="engine.listen", frozen=True):
    """Follow the session's stage events after ``after`` (a stream); answers the replay
    and the live run's id."""

    user: str
    after: int | None = None
    stream: int = 0
    opens_stream: ClassVar[bool] = True


class ListEvents(Op[EventsPage], tag="engine.events", frozen=True):
    """A page of stage events after ``after`` as JSON, for clients that cannot read SSE."""

    user: str
    after: int | None = None
    limit: int = 100


class PreviewMaterialization(Op[MaterializationPreview], tag="engine.preview", frozen=True):
    user: str


class Materialize(Op[MaterializationResult], tag="engine.materialize", frozen=True):
    user: str
    retry: ClassVar[bool] = False


class DesignFile(Op[FileAnswer | None], tag="engine.file", frozen=True):
    """A generated file (None when there is none by that name)."""

    user: str
    name: str
