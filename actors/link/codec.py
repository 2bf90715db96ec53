"""The link's message codec (pure): batches of small messages in, bytes out, and back.

A link carries three kinds of message, each a msgpack array:

- ``[REQUEST, id, method, args]`` — answered by exactly one REPLY or FAILURE with that id;
- ``[REPLY, id, value]`` / ``[FAILURE, id, [error type, message, field]]``;
- ``[NOTIFY, topic, args]`` — one-way (frames in, events out, unsubscribe).

Messages queued together travel as one WebSocket frame (a msgpack array of messages),
so a busy link pays one frame, one syscall and one decode per batch, not per message.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import msgpack

__all__ = ["ENCODE_ERRORS", "CodecError", "Kind", "decode_batch", "encode_batch", "encode_each"]


class Kind(IntEnum):
    REQUEST = 0
    REPLY = 1
    FAILURE = 2
    NOTIFY = 3


class CodecError(ValueError):
    """The bytes are not a batch of link messages."""


Message = list[Any]


# What msgpack raises for a value it cannot pack: an int out of 64 bits, a lone surrogate
# in a str, a type it does not know, nesting too deep.
ENCODE_ERRORS = (TypeError, ValueError, OverflowError, UnicodeEncodeError)


def encode_batch(messages: list[Message]) -> bytes:
    data: bytes = msgpack.packb(messages, use_bin_type=True)
    return data


def encode_each(messages: list[Message]) -> tuple[bytes, list[tuple[Message, Exception]]]:
    """A batch of the messages that can be packed, and the ones that cannot with why.

    Packing a batch is one array header followed by each message packed alone, so the
    bytes are those ``encode_batch`` gives for the packable messages.
    """
    parts: list[bytes] = []
    bad: list[tuple[Message, Exception]] = []
    for message in messages:
        try:
            parts.append(msgpack.packb(message, use_bin_type=True))
        except ENCODE_ERRORS as exc:
            bad.append((message, exc))
    header: bytes = msgpack.Packer().pack_array_header(len(parts))
    return header + b"".join(parts), bad


def decode_batch(data: bytes) -> list[Message]:
    try:
        batch = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise CodecError(f"undecodable link frame: {exc}") from exc
    if not isinstance(batch, list) or not all(
        isinstance(message, list) and message and isinstance(message[0], int) for message in batch
    ):
        raise CodecError("a link frame must be an array of messages")
    return batch
