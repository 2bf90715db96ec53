"""The design engine's operations on a session host (``actors/core/ops.py`` says how ops
work). Every one names the calling user: a design session answers its owner only."""

from __future__ import annotations

from typing import ClassVar

from ..core.ops import Op
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


class CreateDesign(Op, tag="engine.create", frozen=True):
    """A new design session under ``session_id``; the engine checks what the body's type
    cannot say (the program and design are the user's to read)."""

    user: str
    body: CreateDesignSessionBody
    retry: ClassVar[bool] = False


class GetDesign(Op, tag="engine.get", frozen=True):
    user: str


class PatchDesign(Op, tag="engine.patch", frozen=True):
    user: str
    body: PatchDesignSessionBody
    retry: ClassVar[bool] = False


class ActDesign(Op, tag="engine.act", frozen=True):
    """A stage action (start, confirm, send a message…): answers what it started."""

    user: str
    body: StageActionBody
    retry: ClassVar[bool] = False


class ListenDesign(Op, tag="engine.listen", frozen=True):
    """Follow the session's stage events after ``after`` (a stream); answers the replay
    and the live run's id."""

    user: str
    after: int | None = None
    stream: int = 0
    opens_stream: ClassVar[bool] = True


class ListEvents(Op, tag="engine.events", frozen=True):
    """A page of stage events after ``after`` as JSON, for clients that cannot read SSE:
    answers ``[events, more, live run id]``."""

    user: str
    after: int | None = None
    limit: int = 100


class PreviewMaterialization(Op, tag="engine.preview", frozen=True):
    user: str


class Materialize(Op, tag="engine.materialize", frozen=True):
    user: str
    retry: ClassVar[bool] = False


class DesignFile(Op, tag="engine.file", frozen=True):
    """A generated file's bytes and media type (None when there is none by that name)."""

    user: str
    name: str
