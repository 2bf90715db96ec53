"""Yjs updates for one client appending to a root Y.Text (pure, no pycrdt on the hot path).

A benchmark client only ever appends to the end of its own run of text, so each edit is one
Item whose left origin is the client's previous character. Encoding that by hand costs a
couple of microseconds, where a pycrdt insert plus its update event costs ~100 µs here: with
thousands of edits per second that would make the load generator, not the server, the
bottleneck. The bytes are identical to what pycrdt (yrs) and Yjs produce for the same edit
(checked by tests/benchmarks/test_ytext.py), so servers see ordinary Yjs updates.

Update v1 layout: ``clients=1 · structs=1 · client · clock · item · deleteSet(empty)``; the
item is ``info · [origin id | parent key] · varString(content)`` with info = ContentString
(4), plus 0x80 when it has a left origin.
"""

from __future__ import annotations

from actors.protocol.lib0 import write_var_string, write_var_uint

__all__ = ["EMPTY_STATE_VECTOR", "EMPTY_UPDATE", "TextAppender"]

_CONTENT_STRING = 4
_HAS_ORIGIN = 0x80
_PARENT_IS_ROOT_KEY = 1

EMPTY_STATE_VECTOR = write_var_uint(0)
_EMPTY_DELETE_SET = write_var_uint(0)
EMPTY_UPDATE = write_var_uint(0) + _EMPTY_DELETE_SET  # no structs, nothing deleted


def _utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


class TextAppender:
    """Encodes the updates of one Yjs client that keeps appending to root text ``field``."""

    __slots__ = ("_head", "client_id", "clock", "field")

    def __init__(self, client_id: int, field: str) -> None:
        if not 0 < client_id < 2**53:
            raise ValueError("Yjs client ids are positive and below 2**53")
        self.client_id = client_id
        self.field = field
        self.clock = 0  # Yjs clocks count UTF-16 code units of inserted content
        self._head = write_var_uint(1) + write_var_uint(1) + write_var_uint(client_id)

    def append(self, text: str) -> bytes:
        """The update that appends ``text`` after this client's previous edit."""
        if not text:
            raise ValueError("cannot append empty text")
        clock = self.clock
        if clock == 0:
            item = (
                bytes([_CONTENT_STRING]) + write_var_uint(_PARENT_IS_ROOT_KEY) + write_var_string(self.field)
            )
        else:
            item = (
                bytes([_CONTENT_STRING | _HAS_ORIGIN])
                + write_var_uint(self.client_id)
                + write_var_uint(clock - 1)
            )
        self.clock = clock + _utf16_length(text)
        return self._head + write_var_uint(clock) + item + write_var_string(text) + _EMPTY_DELETE_SET

    def state_vector(self) -> bytes:
        if self.clock == 0:
            return EMPTY_STATE_VECTOR
        return write_var_uint(1) + write_var_uint(self.client_id) + write_var_uint(self.clock)
