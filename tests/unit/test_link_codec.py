"""The link codec packs what it can and names what it cannot (pure)."""

from __future__ import annotations

import pytest

from actors.link.codec import ENCODE_ERRORS, Kind, decode_batch, encode_batch, encode_each


def test_encode_each_equals_the_batch_encoding_when_every_message_packs() -> None:
    batch = [[Kind.REQUEST, 1, 7, ["a", b"b", 3]], [Kind.NOTIFY, 2, []]]
    data, bad = encode_each(batch)
    assert bad == []
    assert data == encode_batch(batch)


def test_encode_each_leaves_out_only_the_messages_that_cannot_pack() -> None:
    batch = [[Kind.REQUEST, 1, 7, [2**64]], [Kind.REPLY, 2, "ok"], [Kind.REPLY, 3, "\ud800"]]
    with pytest.raises(ENCODE_ERRORS):
        encode_batch(batch)
    data, bad = encode_each(batch)
    assert decode_batch(data) == [[Kind.REPLY, 2, "ok"]]
    assert [message[1] for message, _ in bad] == [1, 3]
