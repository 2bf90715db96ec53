"""Realtime frame processing for one session (pure: frames in, replies and changes out).

The gateway has already decoded addresses and decided auth; what reaches here is, per
frame, the connection it came from, its message type, its payload and whether that
connection may write. Outputs are addressed to one connection or to every connection of
the document; changes go to the write-ahead log and acknowledgements wait for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, Protocol, TypeVar

from pycrdt import Doc

from ..protocol.lib0 import DecodeError, Decoder, write_var_bytes, write_var_uint
from ..protocol.messages import (
    MessageType,
    ProtocolError,
    SyncType,
    decode_sync,
    sync_step1,
    sync_step2,
    sync_update,
)
from .awareness import AwarenessError, AwarenessRegistry

__all__ = [
    "EMPTY_UPDATE",
    "NO_ORIGIN",
    "Control",
    "DocChange",
    "Inbound",
    "Outcome",
    "Scope",
    "SyncDoc",
    "process_frames",
    "readonly_step2_is_noop",
]

log = logging.getLogger(__name__)


class Control(IntEnum):
    """Internal inbound kinds that are not wire messages."""

    OPEN = 100  # a connection was authorised for the document
    LEAVE = 101  # a connection left the document (closed, or sent Close)


class Scope(IntEnum):
    TO_CONN = 0  # one connection (on the gateway that sent the frame)
    TO_OTHERS = 1  # every synced connection but the origin
    TO_ALL = 2  # every authorised connection, origin included (awareness echo)


# The origin of a broadcast that no connection sent (REST ops, server edits), or that its
# sender must receive too: no connection is skipped.
NO_ORIGIN = -1


# (conn, kind, payload, writable): kind is a MessageType or a Control value.
Inbound = tuple[int, int, bytes, bool]

# A Yjs update that changes nothing (no structs, empty delete set).
EMPTY_UPDATE = b"\x00\x00"


class DocChange(Protocol):
    """A change an editor's update made: the update its peers must see (None if none)."""

    @property
    def update(self) -> bytes | None: ...


C = TypeVar("C", bound=DocChange)
C_co = TypeVar("C_co", bound=DocChange, covariant=True)


class SyncDoc(Protocol[C_co]):
    """A session's document as the frame processor sees it (any API's)."""

    @property
    def id(self) -> str: ...

    @property
    def doc(self) -> Doc[Any]: ...

    def full_update(self) -> bytes: ...

    def apply_update(self, update: bytes, *, now_iso: str, author: str) -> C_co | None:
        """Apply an editor's update; the change to log, None when it changed nothing."""
        ...


@dataclass(slots=True)
class Outcome(Generic[C]):
    direct: list[tuple[int, int, bytes]] = field(default_factory=list)
    broadcast: list[tuple[Scope, int, bytes, int]] = field(default_factory=list)
    changes: list[C] = field(default_factory=list)
    acks: list[int] = field(default_factory=list)
    refused: int = 0


_REFUSABLE = (ProtocolError, DecodeError, AwarenessError, ValueError)
_STATUS_OK = write_var_uint(1)
_STATUS_REFUSED = write_var_uint(0)


def readonly_step2_is_noop(session: SyncDoc[DocChange], update: bytes) -> bool:
    """Would this update change the document? Tried on a scratch copy, never on the real one."""
    if update == EMPTY_UPDATE:
        return True
    scratch: Doc[Any] = Doc()
    scratch.apply_update(session.full_update())
    changed: list[bytes] = []
    scratch.observe(lambda event: changed.append(event.update))
    scratch.apply_update(update)
    return all(u == EMPTY_UPDATE for u in changed)


def _origin_to_skip(conn: int, received: bytes, integrated: bytes) -> int:
    """The connection a document broadcast may skip: its sender, only if it sent all of it.

    An update whose dependencies arrive later waits in the document; the update that
    completes it integrates both, and the broadcast then carries edits its sender never
    saw (its handshake's SyncStep2 left them out while they waited). Skipping the sender
    would leave it without them, and without every later edit that builds on them.
    Sending a connection what it already has is harmless.
    """
    return conn if integrated == received else NO_ORIGIN


def _awareness_payload(update: bytes) -> bytes:
    return write_var_bytes(update)


def process_frames(
    session: SyncDoc[C],
    awareness: AwarenessRegistry,
    items: list[Inbound],
    *,
    now: float,
    now_iso: str,
) -> Outcome[C]:
    out: Outcome[C] = Outcome()
    for conn, kind, payload, writable in items:
        try:
            _process_one(session, awareness, out, conn, kind, payload, writable, now, now_iso)
        except BaseException as exc:
            # pycrdt raises ValueError for a bad update; a Rust panic surfaces as pyo3's
            # PanicException (a BaseException). Either is this frame's fault only.
            if not isinstance(exc, _REFUSABLE) and type(exc).__name__ != "PanicException":
                raise
            # A bad frame is refused for its own connection; the document is untouched.
            log.info("frame refused session=%s conn=%s kind=%s: %s", session.id, conn, kind, exc)
            out.refused += 1
            if kind == MessageType.SYNC:
                out.direct.append((conn, MessageType.SYNC_STATUS, _STATUS_REFUSED))
    return out


def _process_one(
    session: SyncDoc[C],
    awareness: AwarenessRegistry,
    out: Outcome[C],
    conn: int,
    kind: int,
    payload: bytes,
    writable: bool,
    now: float,
    now_iso: str,
) -> None:
    if kind == MessageType.SYNC:
        sync_kind, body = decode_sync(payload)
        if sync_kind == SyncType.STEP1:
            out.direct.append((conn, MessageType.SYNC, sync_step2(session.doc.get_update(body))))
            return
        if not writable:
            noop = sync_kind == SyncType.STEP2 and readonly_step2_is_noop(session, body)
            out.direct.append((conn, MessageType.SYNC_STATUS, _STATUS_OK if noop else _STATUS_REFUSED))
            return
        change = session.apply_update(body, now_iso=now_iso, author=f"connection:{conn}")
        if change is not None:
            out.changes.append(change)
            if change.update is not None:
                origin = _origin_to_skip(conn, body, change.update)
                out.broadcast.append((Scope.TO_OTHERS, MessageType.SYNC, sync_update(change.update), origin))
        out.acks.append(conn)
    elif kind == MessageType.AWARENESS:
        update = Decoder(payload).read_var_bytes()
        accepted = awareness.apply(update, now=now, owner=conn)
        if accepted is not None:
            out.broadcast.append((Scope.TO_ALL, MessageType.AWARENESS, _awareness_payload(accepted), conn))
    elif kind == MessageType.QUERY_AWARENESS:
        full = awareness.full_update()
        if full is not None:
            out.direct.append((conn, MessageType.AWARENESS, _awareness_payload(full)))
    elif kind == MessageType.STATELESS:
        Decoder(payload).read_var_string()  # validate before forwarding
        out.broadcast.append((Scope.TO_OTHERS, MessageType.STATELESS, payload, conn))
    elif kind == Control.OPEN:
        out.direct.append((conn, MessageType.SYNC, sync_step1(session.doc.get_state())))
        full = awareness.full_update()
        if full is not None:
            out.direct.append((conn, MessageType.AWARENESS, _awareness_payload(full)))
    elif kind == Control.LEAVE:
        removed = awareness.remove_owner(conn, now=now)
        if removed is not None:
            out.broadcast.append((Scope.TO_ALL, MessageType.AWARENESS, _awareness_payload(removed), conn))
    else:
        raise ProtocolError(f"message type {kind} is not accepted from a client")
