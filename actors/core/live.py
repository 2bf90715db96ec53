"""What a host needs of a live session, whichever API it belongs to (one interface).

A host activates, feeds, idles and unloads sessions through ``LiveSession`` and finds
them through each API's ``Room``; it never asks which kind a session is. A Bridge
document, a design session and a workspace session each implement it in their own room.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .fanout import Peer
from .sync import Inbound

__all__ = ["LiveSession", "Room"]


class LiveSession(Protocol):
    """One session held in a host's memory, with its subscribers."""

    #: The API it belongs to, for counts and logs ("bridge", "design", "workspace").
    kind: str

    @property
    def id(self) -> str: ...

    @property
    def unflushed(self) -> int:
        """Rows applied in memory and not yet committed."""
        ...

    @property
    def running(self) -> bool:
        """An AI run is in flight."""
        ...

    def touch(self) -> None:
        """A caller used the session now (it is not idle)."""
        ...

    def is_idle(self, idle_timeout: float) -> bool:
        """Nothing holds it (no subscriber, run or unflushed row) for ``idle_timeout`` s."""
        ...

    async def checkpoint(self, *, force: bool) -> None:
        """Make what is in memory durable before an unload; ``force`` also stops a run."""
        ...

    def close(self) -> None:
        """Unloaded: end every subscriber's stream (they resubscribe elsewhere)."""
        ...

    def tick(self, now: float) -> None:
        """Expire presence and awareness that were not renewed (monotonic ``now``)."""
        ...

    def subscribe(self, peer: Peer, max_streams: int) -> str | None:
        """Send the session's realtime events to ``peer``; returns the owner whose
        connections alone may open the document, None when any caller may."""
        ...

    def frames(self, peer: Peer, items: Sequence[Inbound], now: float) -> bool:
        """Apply a subscribed peer's frames; False when ``peer`` is not subscribed."""
        ...

    def peer_closed(self, peer_id: int) -> None:
        """The stream ``peer_id`` is gone: stop sending to it."""
        ...


class Room(Protocol):
    """One API's sessions as a host finds them: loaded from that API's store."""

    async def load(self, session_id: str) -> LiveSession | None:
        """The session rebuilt from its store, None when this API has no such session."""
        ...
