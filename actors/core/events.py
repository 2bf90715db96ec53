"""What a session sends back to a gateway about its realtime connections (named, pure)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from .sync import Scope

__all__ = ["Delivery", "StreamEnd"]


class Delivery(NamedTuple):
    """One message for a gateway's connections of a session.

    ``conn`` is the target connection for ``Scope.TO_CONN``; for ``Scope.TO_OTHERS`` it is
    the origin connection to skip when the origin is on this gateway, else -1.
    """

    scope: Scope
    kind: int
    payload: bytes
    conn: int


class StreamEnd(IntEnum):
    """Why a session stream ended: each tells the gateway what to do with its sockets."""

    OVERFLOW = 1  # the gateway fell too far behind: resync its sockets
    DELETED = 2  # the session was deleted: refuse its documents
    RESTART = 3  # the session's host went away: reconnect and resync
