"""The one boundary the gateway sees: a typed session client and its realtime streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from ..bridge.theme import ThemeParams
from ..core.events import Delivery, StreamEnd
from ..core.ops import Op
from ..core.sync import Inbound
from ..workspace.bodies import NewSessionBody, RunBody, SessionStatusBody, SessionTitleBody
from ..workspace.front import WorkspaceFront
from .stats import LayerStats
from .warmth import Warmth

__all__ = [
    "DesignAction",
    "RealtimeStream",
    "SessionClient",
    "StageEventItem",
    "StageEventStream",
    "StageStreamItem",
    "StreamItem",
]

# A stream yields lists of deliveries until it yields the reason it ended.
StreamItem = list[Delivery] | StreamEnd


class StageEventItem(NamedTuple):
    """One committed stage event: its id (the SSE id), its run, its JSON, whether it ends the run."""

    id: int
    run_id: str
    data: bytes
    terminal: bool


StageStreamItem = list[StageEventItem] | StreamEnd


@dataclass(frozen=True, slots=True)
class DesignAction:
    """What a ``POST .../stream`` action came to: a JSON answer, or a run to stream."""

    body: dict[str, Any] | None = None
    run_id: str | None = None
    after: int = 0

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> DesignAction:
        """From a host's answer: ``{"json": body}`` or ``{"stream": {"runId", "after"}}``."""
        if "json" in result:
            return cls(body=result["json"])
        stream = result["stream"]
        return cls(run_id=str(stream["runId"]), after=int(stream["after"]))


class StageEventStream(Protocol):
    """A design session's committed stage events after an id: the missed ones, then live."""

    @property
    def live_run(self) -> str | None:
        """The run that was live when the stream started (None: none was)."""
        ...

    @property
    def replay(self) -> list[StageEventItem]:
        """The committed events after the requested id, as of the start."""
        ...

    def events(self) -> AsyncIterator[StageStreamItem]:
        """Events committed after the start, as they come."""
        ...

    async def close(self) -> None: ...


class RealtimeStream(Protocol):
    """A gateway's one subscription to a session, shared by all its local sockets."""

    @property
    def session_id(self) -> str: ...

    @property
    def owner(self) -> str | None:
        """A design session's owner (only they may open its document); None for Bridge."""
        ...

    def send(self, batch: Sequence[Inbound]) -> None:
        """Queue a batch of frames, in order; never blocks (a broken link ends the stream)."""
        ...

    def events(self) -> AsyncIterator[StreamItem]: ...

    async def close(self) -> None: ...


class SessionClient(Protocol):
    """Every session operation the gateway needs; errors are the session layer's own.

    Raises ``SessionNotFound``, ``ValidationError`` (bad input the session found), and
    ``SessionUnavailable`` for every failure to reach or hear back from a session.
    """

    async def call(self, op: Op) -> Any:
        """Any operation on a session host (``actors/*/ops.py``), answered by that host; the
        named methods below are one line each over it."""
        ...

    async def start(self) -> str:
        """Start (or join) the session layer; returns the store kind. Returns before the
        layer is warm: requests made meanwhile wait for the same start."""
        ...

    async def warmed(self) -> Warmth:
        """Once the layer's warm-up has ended (bounded by a setting): what it started."""
        ...

    def warmth(self) -> Warmth | None:
        """The warm-up's outcome, or None while it runs."""
        ...

    async def stop(self) -> None: ...

    async def create_session(
        self, name: str, description: str, spec: dict[str, Any], theme: ThemeParams
    ) -> dict[str, Any]: ...

    async def list_sessions(self, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def get_session(self, session_id: str) -> dict[str, Any]: ...

    async def state(self, session_id: str) -> dict[str, Any]: ...

    async def apply_ops(
        self,
        session_id: str,
        ops: list[object],
        *,
        agent_id: str | None = None,
        expected_revision: int | None = None,
        version_before: str | None = None,
    ) -> dict[str, Any]:
        """One change named by ``changeId``; ``Conflict`` (nothing applied) when the session's
        revision is not ``expected_revision``; ``version_before``: label of an automatic
        version of the state before (its id is ``versionId``)."""
        ...

    # -- Bridge versions and undo (NotFound for an unknown version or change) -------------

    async def list_versions(self, session_id: str) -> list[dict[str, Any]]: ...

    async def create_version(self, session_id: str, label: str, agent_id: str | None) -> dict[str, Any]: ...

    async def version_state(self, session_id: str, version_id: str) -> dict[str, Any]: ...

    async def diff_versions(self, session_id: str, a: str, b: str) -> dict[str, Any]:
        """``a``/``b``: version ids, or ``current`` for the live state."""
        ...

    async def restore_version(
        self, session_id: str, version_id: str, agent_id: str | None
    ) -> dict[str, Any]: ...

    async def undo_change(self, session_id: str, change_id: str, agent_id: str | None) -> dict[str, Any]:
        """Reverts one named change; ``Conflict`` listing later changes that touched its keys."""
        ...

    async def set_presence(
        self,
        session_id: str,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
    ) -> dict[str, Any]: ...

    async def get_presence(self, session_id: str) -> dict[str, Any]: ...

    async def delete_session(self, session_id: str) -> None: ...

    async def open_stream(self, session_id: str) -> RealtimeStream:
        """Subscribe to a session's realtime traffic; ``stream.owner`` is set for a design session."""
        ...

    # -- programs and designs (the PLM the design engine works in) ---------------------

    async def create_program(self, user: str, body: object) -> dict[str, Any]: ...

    async def list_programs(self, user: str) -> list[dict[str, Any]]: ...

    async def get_program(self, user: str, program_id: str) -> dict[str, Any]: ...

    async def add_program_member(self, user: str, program_id: str, body: object) -> dict[str, Any]: ...

    async def create_design(self, user: str, program_id: str, body: object) -> dict[str, Any]: ...

    async def list_designs(self, user: str, program_id: str) -> list[dict[str, Any]]: ...

    async def get_design(self, user: str, design_id: str) -> dict[str, Any]: ...

    # -- design-engine sessions (owner-scoped: AccessDenied for another user's) -------

    async def create_design_session(self, user: str, body: object) -> dict[str, Any]: ...

    async def list_design_sessions(self, user: str, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def get_design_session(self, user: str, session_id: str) -> dict[str, Any]: ...

    async def patch_design_session(self, user: str, session_id: str, body: object) -> dict[str, Any]: ...

    async def design_action(self, user: str, session_id: str, body: object) -> DesignAction: ...

    async def design_events(self, user: str, session_id: str, after: int | None) -> StageEventStream: ...

    async def preview_materialization(self, user: str, session_id: str) -> dict[str, Any]: ...

    async def materialize(self, user: str, session_id: str) -> dict[str, Any]: ...

    async def design_file(self, user: str, session_id: str, name: str) -> tuple[bytes, str]:
        """A CAD file of the session (``parts/<tempId>.step|stl|glb``, ``assembly.step|glb``)."""
        ...

    # -- PLM records ----------------------------------------------------------------------

    async def design_bom(self, user: str, design_id: str) -> list[dict[str, Any]]: ...

    async def get_item(self, user: str, item_id: str) -> dict[str, Any]: ...

    async def search_items(self, user: str, query: str, limit: int) -> list[dict[str, Any]]: ...

    async def get_eco(self, user: str, eco_id: str) -> dict[str, Any]: ...

    # -- workspace: projects, sessions, history, files, runs ----------------------------

    @property
    def workspace(self) -> WorkspaceFront:
        """Projects, session lists and files (no live session needed)."""
        ...

    async def create_workspace_session(
        self, user: str, project_id: str, body: NewSessionBody
    ) -> dict[str, Any]: ...

    async def get_workspace_session(self, user: str, session_id: str) -> dict[str, Any]: ...

    async def set_workspace_session_status(
        self, user: str, session_id: str, body: SessionStatusBody
    ) -> dict[str, Any]: ...

    async def set_workspace_session_title(
        self, user: str, session_id: str, body: SessionTitleBody
    ) -> dict[str, Any]: ...

    async def delete_workspace_session(self, user: str, session_id: str) -> None: ...

    async def workspace_history(
        self, user: str, session_id: str, limit: int | None
    ) -> list[dict[str, Any]]: ...

    async def start_run(self, user: str, session_id: str, body: RunBody) -> str:
        """Quota reserved, files checked, user message kept: the run is under way; its id."""
        ...

    async def wait_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]: ...

    async def run_events(self, user: str, session_id: str, run_id: str) -> StageEventStream: ...

    async def get_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]: ...

    async def cancel_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]: ...

    def forget(self, session_id: str) -> None:
        """Drop what this client knows of the session's placement (it was deleted or moved)."""
        ...

    async def host_pid(self, session_id: str) -> int:
        """The process that holds the session now (activating it): for operators and tests."""
        ...

    async def stats(self, timeout: float) -> LayerStats:  # noqa: ASYNC109 (a bound per part: late parts are reported missing)
        """The layer's counters for ``/metrics``; a part that does not answer within
        ``timeout`` seconds is reported missing (None), never waited on longer."""
        ...
