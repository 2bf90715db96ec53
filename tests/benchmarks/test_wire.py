"""The load generator's protocol codecs, by value."""

from __future__ import annotations

import pytest

from actors.protocol.lib0 import write_var_bytes, write_var_uint
from actors.protocol.messages import (
    PING,
    MessageType,
    ProtocolError,
    authenticated,
    encode_frame,
    permission_denied,
    sync_status,
    sync_step1,
    sync_step2,
    sync_update,
)
from benchmarks.wire import HocuspocusWire, Kind, WireProtocol, YWebsocketWire, make_wire


def test_hocuspocus_hello_is_token_then_step1() -> None:
    wire = HocuspocusWire("s1")
    token, step1 = wire.hello(b"\x00")
    assert token[:5] == b"\x02s1\x02\x00"
    assert step1 == bytes.fromhex("027331") + b"\x00" + b"\x00\x01\x00"


def test_hocuspocus_frames_wrap_updates_with_the_address() -> None:
    wire = HocuspocusWire("s1")
    assert wire.update(b"\x01\x02") == encode_frame("s1", MessageType.SYNC, sync_update(b"\x01\x02"))
    assert wire.step2(b"\x00\x00") == bytes.fromhex("027331 00 01 02 00 00")


@pytest.mark.parametrize(
    ("frame", "kind", "ok"),
    [
        (sync_status("s1", True), Kind.ACK, True),
        (sync_status("s1", False), Kind.ACK, False),
        (authenticated("s1", "read-write"), Kind.AUTHENTICATED, True),
        (permission_denied("s1", "nope"), Kind.DENIED, False),
        (encode_frame("s1", MessageType.SYNC, sync_step1(b"\x00")), Kind.STEP1, True),
        (encode_frame("s1", MessageType.SYNC, sync_step2(b"\x00\x00")), Kind.STEP2, True),
        (encode_frame("s1", MessageType.SYNC, sync_update(b"abc")), Kind.UPDATE, True),
        (encode_frame("s1", MessageType.AWARENESS, write_var_bytes(b"x")), Kind.OTHER, True),
        (PING, Kind.OTHER, True),
    ],
)
def test_hocuspocus_parse(frame: bytes, kind: Kind, ok: bool) -> None:
    incoming = HocuspocusWire("s1").parse(frame)
    assert (incoming.kind, incoming.ok) == (kind, ok)


def test_hocuspocus_parse_keeps_update_body_and_denial_reason() -> None:
    wire = HocuspocusWire("s1")
    assert wire.parse(encode_frame("s1", MessageType.SYNC, sync_update(b"abc"))).body == b"abc"
    assert wire.parse(permission_denied("s1", "session-not-found")).reason == "session-not-found"


def test_malformed_frames_raise_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        HocuspocusWire("s1").parse(b"\x05ab")
    with pytest.raises(ProtocolError):
        YWebsocketWire().parse(b"\x00\x02\x09")


def test_y_websocket_frames_have_no_address_and_no_acks() -> None:
    wire = YWebsocketWire()
    assert not wire.acks
    assert wire.hello(b"\x00") == [b"\x00\x00\x01\x00"]
    assert wire.update(b"xy") == b"\x00" + sync_update(b"xy")
    assert wire.parse(b"\x00" + sync_step1(b"\x00")).kind is Kind.STEP1
    assert wire.parse(b"\x00" + sync_update(b"xy")).body == b"xy"
    assert wire.parse(write_var_uint(1) + write_var_bytes(b"aw")).kind is Kind.OTHER
    assert wire.parse(b"\x02\x00" + write_var_bytes(b"denied")).kind is Kind.DENIED


def test_make_wire_picks_the_codec() -> None:
    assert make_wire(WireProtocol.HOCUSPOCUS, "d").acks
    assert not make_wire(WireProtocol.Y_WEBSOCKET, "d").acks
