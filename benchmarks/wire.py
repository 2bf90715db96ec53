"""The load generator's side of the two wire protocols (pure: bytes in, events out).

- ``hocuspocus``: every frame is ``varString(document) · varUint(type) · payload``; the
  client authenticates per document and the server acknowledges each applied update with
  ``SyncStatus``, which gives the ack latency.
- ``y-websocket``: one document per socket (named by the URL), no address prefix, no auth
  message, no acknowledgements (ack latency is not available).

The codecs come from ``actors.protocol``; this module only chooses frames and classifies
what arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Protocol

from actors.protocol.lib0 import DecodeError, Decoder, write_var_uint
from actors.protocol.messages import (
    PING,
    PONG,
    AuthType,
    MessageType,
    ProtocolError,
    SyncType,
    YMessageType,
    decode_frame,
    decode_sync,
    encode_frame,
    sync_step1,
    sync_step2,
    sync_update,
    token_frame,
)

__all__ = [
    "HocuspocusWire",
    "Incoming",
    "Kind",
    "Wire",
    "WireProtocol",
    "YWebsocketWire",
    "make_wire",
]


class WireProtocol(StrEnum):
    HOCUSPOCUS = "hocuspocus"
    Y_WEBSOCKET = "y-websocket"


class Kind(Enum):
    STEP1 = "step1"  # the server's state vector: answer with our SyncStep2
    STEP2 = "step2"  # the server's answer to our SyncStep1: we are synced
    UPDATE = "update"  # a document update (carries other clients' markers)
    ACK = "ack"  # SyncStatus: ok tells applied (1) or rejected (0)
    AUTHENTICATED = "authenticated"
    DENIED = "denied"
    OTHER = "other"  # awareness, stateless, pings: ignored


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: Kind
    body: bytes = b""
    ok: bool = True
    reason: str = ""


_OTHER = Incoming(Kind.OTHER)


class Wire(Protocol):
    protocol: WireProtocol
    acks: bool  # whether the server acknowledges updates (SyncStatus)

    def hello(self, state_vector: bytes) -> list[bytes]:
        """Frames to send when the socket opens."""

    def update(self, update: bytes) -> bytes: ...

    def step2(self, update: bytes) -> bytes: ...

    def parse(self, data: bytes) -> Incoming: ...


def _sync_event(payload: bytes) -> Incoming:
    kind, body = decode_sync(payload)
    if kind == SyncType.STEP1:
        return Incoming(Kind.STEP1, body)
    if kind == SyncType.STEP2:
        return Incoming(Kind.STEP2, body)
    return Incoming(Kind.UPDATE, body)


class HocuspocusWire:
    protocol = WireProtocol.HOCUSPOCUS
    acks = True

    def __init__(self, document: str, token: str = "bench") -> None:
        self.document = document
        self.token = token

    def hello(self, state_vector: bytes) -> list[bytes]:
        return [
            token_frame(self.document, self.token),
            encode_frame(self.document, MessageType.SYNC, sync_step1(state_vector)),
        ]

    def update(self, update: bytes) -> bytes:
        return encode_frame(self.document, MessageType.SYNC, sync_update(update))

    def step2(self, update: bytes) -> bytes:
        return encode_frame(self.document, MessageType.SYNC, sync_step2(update))

    def parse(self, data: bytes) -> Incoming:
        if data in (PING, PONG):
            return _OTHER
        frame = decode_frame(data)
        if frame.type == MessageType.SYNC:
            return _sync_event(frame.payload)
        if frame.type == MessageType.SYNC_STATUS:
            try:
                return Incoming(Kind.ACK, ok=Decoder(frame.payload).read_var_uint() == 1)
            except DecodeError as exc:
                raise ProtocolError(f"bad SyncStatus: {exc}") from exc
        if frame.type == MessageType.AUTH:
            decoder = Decoder(frame.payload)
            try:
                subtype = decoder.read_var_uint()
                text = decoder.read_var_string() if decoder.remaining else ""
            except DecodeError as exc:
                raise ProtocolError(f"bad auth message: {exc}") from exc
            if subtype == AuthType.AUTHENTICATED:
                return Incoming(Kind.AUTHENTICATED, reason=text)
            if subtype == AuthType.PERMISSION_DENIED:
                return Incoming(Kind.DENIED, ok=False, reason=text or "permission-denied")
        return _OTHER


class YWebsocketWire:
    protocol = WireProtocol.Y_WEBSOCKET
    acks = False

    _SYNC = write_var_uint(YMessageType.SYNC)

    def hello(self, state_vector: bytes) -> list[bytes]:
        return [self._SYNC + sync_step1(state_vector)]

    def update(self, update: bytes) -> bytes:
        return self._SYNC + sync_update(update)

    def step2(self, update: bytes) -> bytes:
        return self._SYNC + sync_step2(update)

    def parse(self, data: bytes) -> Incoming:
        decoder = Decoder(data)
        try:
            mtype = decoder.read_var_uint()
        except DecodeError as exc:
            raise ProtocolError(f"bad y-websocket frame: {exc}") from exc
        if mtype == YMessageType.SYNC:
            return _sync_event(decoder.read_rest())
        if mtype == YMessageType.AUTH:
            try:
                decoder.read_var_uint()
                reason = decoder.read_var_string() if decoder.remaining else ""
            except DecodeError as exc:
                raise ProtocolError(f"bad auth message: {exc}") from exc
            return Incoming(Kind.DENIED, ok=False, reason=reason or "permission-denied")
        return _OTHER


def make_wire(protocol: WireProtocol, document: str, token: str = "") -> Wire:
    if protocol is WireProtocol.HOCUSPOCUS:
        return HocuspocusWire(document, token or "bench")
    return YWebsocketWire()
