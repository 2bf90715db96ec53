"""The Bridge's operations on a session host (``actors/core/ops.py`` says how ops work)."""

from __future__ import annotations

from typing import Any, ClassVar

from storage.bridge.records import SessionRecord

from ..core.ops import Op
from .theme import ThemeParams

__all__ = [
    "ApplyOps",
    "CreateSession",
    "CreateVersion",
    "DeleteSession",
    "DiffVersions",
    "GetPresence",
    "GetState",
    "ListVersions",
    "RestoreVersion",
    "SetPresence",
    "UndoChange",
    "VersionState",
]


class CreateSession(Op, tag="bridge.create", frozen=True):
    """A new session (``session_id`` is ``record.id``) from a validated spec and theme."""

    record: SessionRecord
    spec: dict[str, Any]
    theme: ThemeParams
    retry: ClassVar[bool] = False


class GetState(Op, tag="bridge.state", frozen=True):
    """The document's spec, theme, theme CSS and meta, with its revision."""


class ApplyOps(Op, tag="bridge.apply_ops", frozen=True):
    """Spec ops applied as one change (``changeId``, undoable); refused whole when the
    session moved past ``expected_revision``; ``version_before`` takes a version first."""

    ops: list[Any]
    agent_id: str | None = None
    expected_revision: int | None = None
    version_before: str | None = None
    retry: ClassVar[bool] = False


class SetPresence(Op, tag="bridge.set_presence", frozen=True):
    """An agent's presence, upserted (the same call twice leaves the same state)."""

    agent_id: str
    name: str | None = None
    cursor: dict[str, str] | None = None
    status: str | None = None


class GetPresence(Op, tag="bridge.presence", frozen=True):
    """REST agents and every editor's awareness, merged."""


class DeleteSession(Op, tag="bridge.delete", frozen=True):
    """The session with its log, snapshots and versions (deleting twice is harmless)."""


class ListVersions(Op, tag="bridge.versions", frozen=True):
    pass


class CreateVersion(Op, tag="bridge.create_version", frozen=True):
    label: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False


class VersionState(Op, tag="bridge.version_state", frozen=True):
    version_id: str


class DiffVersions(Op, tag="bridge.diff_versions", frozen=True):
    """What changed from ``a`` to ``b`` (version ids or ``current``)."""

    a: str
    b: str


class RestoreVersion(Op, tag="bridge.restore", frozen=True):
    version_id: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False


class UndoChange(Op, tag="bridge.undo", frozen=True):
    change_id: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False
