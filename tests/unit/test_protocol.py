"""Wire codecs by value, against the byte examples of the Hocuspocus protocol."""

from __future__ import annotations

import pytest

from actors.protocol import lib0
from actors.protocol.messages import (
    Frame,
    MessageType,
    ProtocolError,
    SyncType,
    authenticated,
    decode_frame,
    decode_sync,
    encode_frame,
    permission_denied,
    route_name,
    sync_status,
    sync_step1,
    sync_step2,
    sync_update,
    token_frame,
)


def test_var_uint_round_trip() -> None:
    for value in (0, 1, 127, 128, 300, 2**21, 2**53 - 1):
        decoder = lib0.Decoder(lib0.write_var_uint(value))
        assert decoder.read_var_uint() == value
        assert decoder.remaining == 0
    assert lib0.write_var_uint(300) == bytes([0xAC, 0x02])


def test_var_string_counts_utf8_bytes() -> None:
    assert lib0.write_var_string("s1") == b"\x02s1"
    encoded = lib0.write_var_string("déjà")
    assert encoded[0] == 6  # four characters, six bytes
    assert lib0.Decoder(encoded).read_var_string() == "déjà"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80", "truncated varUint"),
        (b"\xff" * 9, "longer than 8 bytes"),
        (b"\x05ab", "truncated"),
        (b"\x02\xff\xfe", "UTF-8"),
    ],
)
def test_decoder_rejects_malformed(data: bytes, message: str) -> None:
    with pytest.raises(lib0.DecodeError, match=message):
        lib0.Decoder(data).read_var_string()


def test_documented_frames() -> None:
    assert token_frame("s1", "tok", "4.5.0") == bytes.fromhex("02 73 31 02 00 03") + b"tok" + b"\x054.5.0"
    assert authenticated("s1", "read-write") == bytes.fromhex("02 73 31 02 02 0a") + b"read-write"
    assert (
        permission_denied("s1", "permission-denied")
        == bytes.fromhex("02 73 31 02 01 11") + b"permission-denied"
    )
    assert encode_frame("s1", MessageType.SYNC, sync_step1(b"\x00")) == bytes.fromhex("02 73 31 00 00 01 00")
    assert encode_frame("s1", MessageType.SYNC, sync_step2(b"\x00\x00")) == bytes.fromhex(
        "02 73 31 00 01 02 00 00"
    )
    assert sync_status("s1", True) == bytes.fromhex("02 73 31 08 01")
    assert sync_status("s1", False) == bytes.fromhex("02 73 31 08 00")


def test_decode_frame_and_sync() -> None:
    frame = decode_frame(encode_frame("doc\0abc", MessageType.SYNC, sync_update(b"\x01\x02")))
    assert frame == Frame("doc\0abc", MessageType.SYNC, b"\x02\x02\x01\x02")
    assert route_name(frame.address) == "doc"
    assert decode_sync(frame.payload) == (SyncType.UPDATE, b"\x01\x02")
    assert decode_frame(b"\x09") == Frame("", MessageType.PING, b"")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x05ab", b"\x02s1", b"\x02s1\x63", b"\x02s1\xff\xff\xff\xff\xff\xff\xff\xff\xff"],
)
def test_decode_frame_rejects_malformed(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_frame(data)


@pytest.mark.parametrize("payload", [b"", b"\x07\x00", b"\x02\x05ab", b"\x00\x01\x00\x00"])
def test_decode_sync_rejects_malformed(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_sync(payload)
