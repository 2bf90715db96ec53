"""WebSocket framing of outgoing binary messages (RFC 6455 §5.2), as pure functions.

A server's frames are never masked, so one message's frame is the same bytes for every
socket: a broadcast is framed once here and the bytes written to each socket's transport.
Frames are never compressed: the gateway declines permessage-deflate (see `handler`), and
an uncompressed frame is valid whatever the peer negotiated.
"""

from __future__ import annotations

import struct

__all__ = ["binary_frame", "frame_header"]

_FIN_BINARY = 0x82
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")


def frame_header(length: int) -> bytes:
    """The header of one final, unmasked binary frame carrying ``length`` bytes."""
    if length < 126:
        return bytes((_FIN_BINARY, length))
    if length < 1 << 16:
        return _LEN16.pack(_FIN_BINARY, 126, length)
    return _LEN64.pack(_FIN_BINARY, 127, length)


def binary_frame(message: bytes) -> bytes:
    """``message`` as one complete binary frame, ready for a transport."""
    return frame_header(len(message)) + message
