"""lib0 binary encoding (the wire format under Yjs and Hocuspocus), as pure functions.

Strings are length-prefixed by their UTF-8 *byte* length, as lib0's ``writeVarString``
does; pycrdt's encoder counts characters, which is wrong for non-ASCII addresses.
"""

from __future__ import annotations

__all__ = [
    "MAX_VARUINT_BYTES",
    "DecodeError",
    "Decoder",
    "write_var_bytes",
    "write_var_string",
    "write_var_uint",
]

# lib0 varUints are at most 53 bits wide (JavaScript safe integers): 8 bytes of 7 bits.
MAX_VARUINT_BYTES = 8


class DecodeError(ValueError):
    """The bytes are not a well-formed lib0 value (truncated, overlong, bad UTF-8)."""


def write_var_uint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varUint must be non-negative")
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def write_var_bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def write_var_string(text: str) -> bytes:
    return write_var_bytes(text.encode("utf-8"))


class Decoder:
    """A cursor over one message's bytes; every read checks bounds."""

    __slots__ = ("_data", "pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self.pos

    def read_var_uint(self) -> int:
        value = 0
        shift = 0
        for _ in range(MAX_VARUINT_BYTES):
            if self.pos >= len(self._data):
                raise DecodeError("truncated varUint")
            byte = self._data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise DecodeError("varUint longer than 8 bytes")

    def read_bytes(self, length: int) -> bytes:
        end = self.pos + length
        if end > len(self._data):
            raise DecodeError(f"truncated: need {length} bytes, have {self.remaining}")
        chunk = self._data[self.pos : end]
        self.pos = end
        return chunk

    def read_var_bytes(self) -> bytes:
        return self.read_bytes(self.read_var_uint())

    def read_var_string(self) -> str:
        raw = self.read_var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("string is not valid UTF-8") from exc

    def read_rest(self) -> bytes:
        return self.read_bytes(self.remaining)
