"""The workspace's operations on a session host, each with its answer's type (``answers.py``;
``actors/core/ops.py`` says how ops work).
Every one names the calling user: a workspace session answers its owner only. A request
body crosses as the gateway decoded it (``bodies.py``): the host checks only what a type
cannot say (``validation.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..core.ids import new_session_id
from ..core.ops import Op
from .answers import HistoryMessage, Run, RunResult, WorkspaceSession
from .bodies import NewSessionBody, RunBody, SessionStatusBody, SessionTitleBody

__all__ = [
    "CancelRun",
    "CreateWork",
    "DeleteWork",
    "GetRun",
    "GetWork",
    "ListenRun",
    "SetWorkStatus",
    "SetWorkTitle",
    "StartRun",
    "WaitRun",
    "WorkHistory",
]


class CreateWork(Op[WorkspaceSession], tag="workspace.create", frozen=True):
    """A new workspace session under ``session_id`` in ``project_id``."""

    user: str
    project_id: str
    body: NewSessionBody
    retry: ClassVar[bool] = False

    @classmethod
    def new(cls, user: str, project_id: str, body: NewSessionBody) -> CreateWork:
        """A workspace session under a new id."""
        return cls(new_session_id(), user, project_id, body)


class GetWork(Op[WorkspaceSession], tag="workspace.get", frozen=True):
    user: str


class SetWorkStatus(Op[WorkspaceSession], tag="workspace.status", frozen=True):
    user: str
    body: SessionStatusBody
    retry: ClassVar[bool] = False


class SetWorkTitle(Op[WorkspaceSession], tag="workspace.title", frozen=True):
    user: str
    body: SessionTitleBody
    retry: ClassVar[bool] = False


class DeleteWork(Op[None], tag="workspace.delete", frozen=True):
    user: str
    retry: ClassVar[bool] = False


class WorkHistory(Op[list[HistoryMessage]], tag="workspace.history", frozen=True):
    """Persisted messages, newest last; ``limit`` as the query gave it (clamped by the host)."""

    user: str
    limit: int | None = None


class StartRun(Op[str], tag="workspace.start_run", frozen=True):
    """Reserve quota and start an AI run; answers its id."""

    user: str
    body: RunBody
    retry: ClassVar[bool] = False


class WaitRun(Op[RunResult], tag="workspace.wait_run", frozen=True):
    user: str
    run_id: str
    retry: ClassVar[bool] = False


class ListenRun(Op[Any], tag="workspace.listen_run", frozen=True):
    """Follow a run's events (a stream); answers those sent so far."""

    user: str
    run_id: str
    stream: int = 0
    opens_stream: ClassVar[bool] = True


class GetRun(Op[Run], tag="workspace.get_run", frozen=True):
    user: str
    run_id: str


class CancelRun(Op[Run], tag="workspace.cancel_run", frozen=True):
    user: str
    run_id: str
    retry: ClassVar[bool] = False
