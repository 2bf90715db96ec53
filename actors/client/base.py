"""The one boundary the gateway sees: a typed session client and its realtime streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import NamedTuple, Protocol, TypeVar

from ..bridge.answers import SessionMeta
from ..core.events import Delivery, StreamEnd
from ..core.ops import Op
from ..core.sync import Inbound
from ..engine import plm_answers
from ..engine.answers import DesignSessionSummary
from ..engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody
from ..workspace.front import WorkspaceFront
from .stats import LayerStats
from .warmth import Warmth

__all__ = [
    "RealtimeStream",
    "SessionClient",
    "StageEventItem",
    "StageEventStream",
    "StageStreamItem",
    "StreamItem",
]

R = TypeVar("R")

# A stream yields lists of deliveries until it yields the reason it ended.
StreamItem = list[Delivery] | StreamEnd


class StageEventItem(NamedTuple):
    """One committed stage event: its id (the SSE id), its run, its JSON, whether it ends the run."""

    id: int
    run_id: str
    data: bytes
    terminal: bool


StageStreamItem = list[StageEventItem] | StreamEnd


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

    async def call(self, op: Op[R]) -> R:
        """Any operation on a session host (``actors/*/ops.py``), answered by that host and
        checked as the op's answer type; the methods below are what is not a host's op
        (store reads, streams, the layer's lifecycle)."""
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

    async def list_sessions(self, limit: int, offset: int) -> list[SessionMeta]: ...

    async def get_session(self, session_id: str) -> SessionMeta: ...

    async def delete_session(self, session_id: str) -> None: ...

    async def open_stream(self, session_id: str) -> RealtimeStream:
        """Subscribe to a session's realtime traffic; ``stream.owner`` is set for a design session."""
        ...

    # -- programs and designs (the PLM the design engine works in) ---------------------

    async def create_program(self, user: str, body: CreateProgramBody) -> plm_answers.Program: ...

    async def list_programs(self, user: str) -> list[plm_answers.Program]: ...

    async def get_program(self, user: str, program_id: str) -> plm_answers.Program: ...

    async def add_program_member(
        self, user: str, program_id: str, body: AddMemberBody
    ) -> plm_answers.ProgramMember: ...

    async def create_design(
        self, user: str, program_id: str, body: CreateDesignBody
    ) -> plm_answers.Design: ...

    async def list_designs(self, user: str, program_id: str) -> list[plm_answers.Design]: ...

    async def get_design(self, user: str, design_id: str) -> plm_answers.Design: ...

    # -- design-engine sessions (owner-scoped: AccessDenied for another user's) -------

    async def list_design_sessions(
        self, user: str, limit: int, offset: int
    ) -> list[DesignSessionSummary]: ...

    async def design_events(self, user: str, session_id: str, after: int | None) -> StageEventStream: ...

    async def design_bom(self, user: str, design_id: str) -> list[plm_answers.BomNode]: ...

    async def get_item(self, user: str, item_id: str) -> plm_answers.ItemWithRequirements: ...

    async def search_items(self, user: str, query: str, limit: int) -> list[plm_answers.Item]: ...

    async def get_eco(self, user: str, eco_id: str) -> plm_answers.Eco: ...

    # -- workspace: projects, sessions, history, files, runs ----------------------------

    @property
    def workspace(self) -> WorkspaceFront:
        """Projects, session lists and files (no live session needed)."""
        ...

    async def run_events(self, user: str, session_id: str, run_id: str) -> StageEventStream: ...

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
