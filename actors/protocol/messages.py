"""Hocuspocus and y-protocols message types and frame codecs (pure: bytes in, values out).

A Hocuspocus frame is ``varString(address) · varUint(type) · payload``; Ping/Pong are
the only frames without an address. A plain y-websocket frame is ``varUint(type) · payload``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .lib0 import (
    DecodeError,
    Decoder,
    write_var_bytes,
    write_var_string,
    write_var_uint,
)

__all__ = [
    "PING",
    "PONG",
    "AuthType",
    "Frame",
    "MessageType",
    "ProtocolError",
    "SyncType",
    "YMessageType",
    "authenticated",
    "awareness_frame",
    "close_frame",
    "decode_frame",
    "decode_sync",
    "encode_frame",
    "permission_denied",
    "route_name",
    "stateless_frame",
    "sync_status",
    "sync_step1",
    "sync_step2",
    "sync_update",
    "token_frame",
]


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    SYNC_REPLY = 4
    STATELESS = 5
    BROADCAST_STATELESS = 6
    CLOSE = 7
    SYNC_STATUS = 8
    PING = 9
    PONG = 10


class YMessageType(IntEnum):
    """Message types of the plain y-websocket protocol."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncType(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class AuthType(IntEnum):
    TOKEN = 0
    PERMISSION_DENIED = 1
    AUTHENTICATED = 2


PING = bytes([MessageType.PING])
PONG = bytes([MessageType.PONG])


class ProtocolError(ValueError):
    """A frame that cannot be decoded or is not allowed from a client."""


@dataclass(frozen=True, slots=True)
class Frame:
    address: str
    type: MessageType
    payload: bytes


def route_name(address: str) -> str:
    """The document name of an address (``name\\0clientSessionId`` with sessionAwareness)."""
    return address.split("\0", 1)[0]


def decode_frame(data: bytes) -> Frame:
    """Decode one Hocuspocus frame; raises ProtocolError for anything malformed."""
    if data in (PING, PONG):
        return Frame("", MessageType(data[0]), b"")
    decoder = Decoder(data)
    try:
        address = decoder.read_var_string()
        raw_type = decoder.read_var_uint()
    except DecodeError as exc:
        raise ProtocolError(f"bad frame header: {exc}") from exc
    try:
        mtype = MessageType(raw_type)
    except ValueError:
        raise ProtocolError(f"unknown message type {raw_type}") from None
    return Frame(address, mtype, decoder.read_rest())


def decode_sync(payload: bytes) -> tuple[SyncType, bytes]:
    """Split a y-protocols sync message into its kind and its varBytes body, checking both."""
    decoder = Decoder(payload)
    try:
        raw = decoder.read_var_uint()
        body = decoder.read_var_bytes()
    except DecodeError as exc:
        raise ProtocolError(f"bad sync message: {exc}") from exc
    try:
        kind = SyncType(raw)
    except ValueError:
        raise ProtocolError(f"unknown sync message type {raw}") from None
    if decoder.remaining:
        raise ProtocolError("trailing bytes after sync message")
    return kind, body


def encode_frame(address: str, mtype: int, payload: bytes = b"") -> bytes:
    return write_var_string(address) + write_var_uint(mtype) + payload


def sync_step1(state_vector: bytes) -> bytes:
    """Sync payload (without address/type) carrying a state vector."""
    return write_var_uint(SyncType.STEP1) + write_var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return write_var_uint(SyncType.STEP2) + write_var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return write_var_uint(SyncType.UPDATE) + write_var_bytes(update)


def token_frame(address: str, token: str, version: str = "4.5.0") -> bytes:
    payload = write_var_uint(AuthType.TOKEN) + write_var_string(token) + write_var_string(version)
    return encode_frame(address, MessageType.AUTH, payload)


def authenticated(address: str, scope: str) -> bytes:
    payload = write_var_uint(AuthType.AUTHENTICATED) + write_var_string(scope)
    return encode_frame(address, MessageType.AUTH, payload)


def permission_denied(address: str, reason: str) -> bytes:
    payload = write_var_uint(AuthType.PERMISSION_DENIED) + write_var_string(reason)
    return encode_frame(address, MessageType.AUTH, payload)


def sync_status(address: str, applied: bool) -> bytes:
    return encode_frame(address, MessageType.SYNC_STATUS, write_var_uint(1 if applied else 0))


def awareness_frame(address: str, update: bytes) -> bytes:
    return encode_frame(address, MessageType.AWARENESS, write_var_bytes(update))


def stateless_frame(address: str, payload: str) -> bytes:
    return encode_frame(address, MessageType.STATELESS, write_var_string(payload))


def close_frame(address: str, reason: str) -> bytes:
    return encode_frame(address, MessageType.CLOSE, write_var_string(reason))
