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

__all__ = ["CodecError", "Kind", "decode_batch", "encode_batch"]


class Kind(IntEnum):
    REQUEST = 0
    REPLY = 1
    FAILURE = 2
    NOTIFY = 3


class CodecError(ValueError):
    """The bytes are not a batch of link messages."""


Message = list[Any]


def encode_batch(messages: list[Message]) -> bytes:
    data: bytes = msgpack.packb(messages, use_bin_type=True)
    return data


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
