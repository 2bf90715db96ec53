"""The Bridge's operations on a session host, each with its answer's type (``answers.py``).

``actors/core/ops.py`` says how ops work.
"""

from __future__ import annotations

from typing import Any, ClassVar

from storage.bridge.records import SessionRecord
from storage.clock import utc_now_iso

from ..core.ids import new_session_id
from ..core.ops import Op
from . import answers
from .answers import ChangeOutcome, OpsOutcome, Presence, SessionMeta, SessionState, Version, VersionDiff
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


class CreateSession(Op[SessionMeta], tag="bridge.create", frozen=True):
    """A new session (``session_id`` is ``record.id``) from a validated spec and theme."""

    record: SessionRecord
    spec: dict[str, Any]
    theme: ThemeParams
    retry: ClassVar[bool] = False

    @classmethod
    def new(cls, name: str, description: str, spec: dict[str, Any], theme: ThemeParams) -> CreateSession:
        """A session with a new id, created now, at revision 0."""
        now = utc_now_iso()
        record = SessionRecord(new_session_id(), name, description, 0, now, now)
        return cls(record.id, record, spec, theme)


class GetState(Op[SessionState], tag="bridge.state", frozen=True):
    """The document's spec, theme, theme CSS and meta, with its revision."""


class ApplyOps(Op[OpsOutcome], tag="bridge.apply_ops", frozen=True):
    """Spec ops applied as one change (``changeId``, undoable); refused whole when the
    session moved past ``expected_revision``; ``version_before`` takes a version first."""

    ops: list[Any]
    agent_id: str | None = None
    expected_revision: int | None = None
    version_before: str | None = None
    retry: ClassVar[bool] = False


class SetPresence(Op[Presence], tag="bridge.set_presence", frozen=True):
    """An agent's presence, upserted (the same call twice leaves the same state)."""

    agent_id: str
    name: str | None = None
    cursor: dict[str, str] | None = None
    status: str | None = None


class GetPresence(Op[Presence], tag="bridge.presence", frozen=True):
    """REST agents and every editor's awareness, merged."""


class DeleteSession(Op[bool], tag="bridge.delete", frozen=True):
    """The session with its log, snapshots and versions (deleting twice is harmless)."""


class ListVersions(Op[list[Version]], tag="bridge.versions", frozen=True):
    pass


class CreateVersion(Op[Version], tag="bridge.create_version", frozen=True):
    label: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False


class VersionState(Op[answers.VersionState], tag="bridge.version_state", frozen=True):
    version_id: str


class DiffVersions(Op[VersionDiff], tag="bridge.diff_versions", frozen=True):
    """What changed from ``a`` to ``b`` (version ids or ``current``)."""

    a: str
    b: str


class RestoreVersion(Op[ChangeOutcome], tag="bridge.restore", frozen=True):
    version_id: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False


class UndoChange(Op[ChangeOutcome], tag="bridge.undo", frozen=True):
    change_id: str
    agent_id: str | None = None
    retry: ClassVar[bool] = False
