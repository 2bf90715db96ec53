"""Timestamp markers and the hand-encoded Yjs text updates, checked against pycrdt."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Text, merge_updates

from benchmarks.markers import MARKER_FIELD, Marker, encode_marker, scan_markers
from benchmarks.ytext import EMPTY_UPDATE, TextAppender


def test_marker_round_trip() -> None:
    text = encode_marker(3, 17, 42, 123_456_789)
    assert text == "~B3.17.42.123456789~"
    assert list(scan_markers(text.encode())) == [Marker(3, 17, 42, 123_456_789)]


def test_marker_fields_must_be_non_negative() -> None:
    with pytest.raises(ValueError, match="marker fields must be non-negative"):
        encode_marker(0, -1, 0, 0)


def test_scan_ignores_noise_and_finds_all_in_order() -> None:
    data = (
        b"\x00\x01junk~B1.2.3~"
        + encode_marker(0, 1, 0, 10).encode()
        + b"\xff"
        + encode_marker(0, 2, 5, 11).encode()
    )
    assert [(m.sender, m.seq) for m in scan_markers(data)] == [(1, 0), (2, 5)]


def _pycrdt_updates(client_id: int, pieces: list[str]) -> list[bytes]:
    doc: Doc[Any] = Doc(client_id=client_id)
    text = doc.get(MARKER_FIELD, type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for piece in pieces:
        text += piece
    return updates


@pytest.mark.parametrize("pieces", [["~B0.1.0.5~"], ["a", "bc", "~B1.2.3.4~"], ["héllo", "😀x", "plain"]])
def test_appender_produces_the_bytes_pycrdt_produces(pieces: list[str]) -> None:
    appender = TextAppender(123_456, MARKER_FIELD)
    assert [appender.append(p) for p in pieces] == _pycrdt_updates(123_456, pieces)


def test_appender_updates_apply_and_keep_state_vector_in_step() -> None:
    appender = TextAppender(99, MARKER_FIELD)
    doc: Doc[Any] = Doc()
    pieces = [encode_marker(0, 1, seq, 1000 + seq) for seq in range(5)]
    for piece in pieces:
        doc.apply_update(appender.append(piece))
    assert str(doc.get(MARKER_FIELD, type=Text)) == "".join(pieces)
    reference: Doc[Any] = Doc(client_id=99)
    reference.get(MARKER_FIELD, type=Text).insert(0, "".join(pieces))
    assert appender.state_vector() == reference.get_state()


def test_markers_survive_merging_of_updates_from_several_clients() -> None:
    updates = []
    for sender in (1, 2):
        appender = TextAppender(1000 + sender, MARKER_FIELD)
        updates += [appender.append(encode_marker(0, sender, seq, 7)) for seq in range(3)]
    merged = merge_updates(*updates)
    assert sorted((m.sender, m.seq) for m in scan_markers(merged)) == [
        (s, q) for s in (1, 2) for q in range(3)
    ]


def test_empty_update_applies_cleanly() -> None:
    doc: Doc[Any] = Doc()
    doc.apply_update(EMPTY_UPDATE)
    assert str(doc.get(MARKER_FIELD, type=Text)) == ""


def test_appender_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Yjs client ids are positive"):
        TextAppender(0, MARKER_FIELD)
    with pytest.raises(ValueError, match="cannot append empty text"):
        TextAppender(1, MARKER_FIELD).append("")
