"""Host-side fan-out: a session's subscribers are peers (one per gateway stream).

A gateway with sockets on a session subscribes once (never once per socket): its channel
is one stream, one peer. The session sends each peer one ordered list of deliveries per
processing step. Bounding and
backpressure belong to the peer's link: a peer that cannot keep up is cut off whole and
its gateway resynchronises its sockets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .events import Delivery, StreamEnd
from .sync import Scope

__all__ = ["Fanout", "Peer"]


class Peer(Protocol):
    """A subscriber of a session: one gateway's stream, over its link or in process."""

    @property
    def peer_id(self) -> int: ...

    def deliver(self, session_id: str, events: list[Delivery]) -> None: ...

    def end(self, session_id: str, reason: StreamEnd) -> None: ...


class Fanout:
    def __init__(self, session_id: str) -> None:
        self._session_id = session_id
        self._peers: dict[int, Peer] = {}

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, peer: Peer) -> bool:
        return peer.peer_id in self._peers

    def add(self, peer: Peer) -> None:
        self._peers[peer.peer_id] = peer

    def remove(self, peer: Peer) -> bool:
        return self.drop(peer.peer_id)

    def drop(self, peer_id: int) -> bool:
        return self._peers.pop(peer_id, None) is not None

    def to_peer(self, peer: Peer, events: list[Delivery]) -> None:
        if events and peer.peer_id in self._peers:
            peer.deliver(self._session_id, events)

    def to_all(self, events: Iterable[Delivery], origin: Peer | None = None) -> None:
        """Send to every peer; an origin connection is skipped only by its own gateway."""
        events = list(events)
        if not events:
            return
        for peer in list(self._peers.values()):
            if origin is not None and peer.peer_id == origin.peer_id:
                peer.deliver(self._session_id, events)
            else:
                peer.deliver(self._session_id, [_foreign(e) for e in events])

    def end_all(self, reason: StreamEnd) -> None:
        peers, self._peers = list(self._peers.values()), {}
        for peer in peers:
            peer.end(self._session_id, reason)


def _foreign(event: Delivery) -> Delivery:
    # Another gateway's origin connection number means nothing here.
    return event._replace(conn=-1) if event.scope == Scope.TO_OTHERS and event.conn != -1 else event
