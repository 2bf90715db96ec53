"""The one boundary the gateway sees: a typed session client and its realtime streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from ..core.events import Delivery, StreamEnd
from ..core.sync import Inbound
from ..core.theme import ThemeParams

__all__ = ["RealtimeStream", "SessionClient", "StreamItem"]

# A stream yields lists of deliveries until it yields the reason it ended.
StreamItem = list[Delivery] | StreamEnd


class RealtimeStream(Protocol):
    """A gateway's one subscription to a session, shared by all its local sockets."""

    @property
    def session_id(self) -> str: ...

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

    async def start(self) -> str:
        """Start (or join) the session layer; returns the store kind."""
        ...

    async def stop(self) -> None: ...

    async def create_session(
        self, name: str, description: str, spec: dict[str, Any], theme: ThemeParams
    ) -> dict[str, Any]: ...

    async def list_sessions(self, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def get_session(self, session_id: str) -> dict[str, Any]: ...

    async def state(self, session_id: str) -> dict[str, Any]: ...

    async def apply_ops(self, session_id: str, ops: list[object]) -> dict[str, Any]: ...

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

    async def open_stream(self, session_id: str) -> RealtimeStream: ...

    def forget(self, session_id: str) -> None:
        """Drop what this client knows of the session's placement (it was deleted or moved)."""
        ...

    async def host_pid(self, session_id: str) -> int:
        """The process that holds the session now (activating it): for operators and tests."""
        ...
