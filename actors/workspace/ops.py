"""The workspace's operations on a session host (``actors/core/ops.py`` says how ops work).
Every one names the calling user: a workspace session answers its owner only. A request
body crosses as the gateway decoded it (``bodies.py``): the host checks only what a type
cannot say (``validation.py``)."""

from __future__ import annotations

from typing import ClassVar

from ..core.ops import Op
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


class CreateWork(Op, tag="workspace.create", frozen=True):
    """A new workspace session under ``session_id`` in ``project_id``."""

    user: str
    project_id: str
    body: NewSessionBody
    retry: ClassVar[bool] = False


class GetWork(Op, tag="workspace.get", frozen=True):
    user: str


class SetWorkStatus(Op, tag="workspace.status", frozen=True):
    user: str
    body: SessionStatusBody
    retry: ClassVar[bool] = False


class SetWorkTitle(Op, tag="workspace.title", frozen=True):
    user: str
    body: SessionTitleBody
    retry: ClassVar[bool] = False


class DeleteWork(Op, tag="workspace.delete", frozen=True):
    user: str
    retry: ClassVar[bool] = False


class WorkHistory(Op, tag="workspace.history", frozen=True):
    """Persisted messages, newest last; ``limit`` as the query gave it (clamped by the host)."""

    user: str
    limit: int | None = None


class StartRun(Op, tag="workspace.start_run", frozen=True):
    """Reserve quota and start an AI run; answers its id."""

    user: str
    body: RunBody
    retry: ClassVar[bool] = False


class WaitRun(Op, tag="workspace.wait_run", frozen=True):
    user: str
    run_id: str
    retry: ClassVar[bool] = False


class ListenRun(Op, tag="workspace.listen_run", frozen=True):
    """Follow a run's events (a stream); answers those sent so far."""

    user: str
    run_id: str
    stream: int = 0
    opens_stream: ClassVar[bool] = True


class GetRun(Op, tag="workspace.get_run", frozen=True):
    user: str
    run_id: str


class CancelRun(Op, tag="workspace.cancel_run", frozen=True):
    user: str
    run_id: str
    retry: ClassVar[bool] = False
