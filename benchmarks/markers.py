"""Timestamp-carrying edits (pure): what each benchmark edit inserts, and how receivers find it.

Every edit inserts a short ASCII marker ``~B<step>.<sender>.<seq>.<sent ns>~`` into a shared
Y.Text (REST agents put the same marker in a prop value). Yjs encodes string content as
length-prefixed UTF-8, so the marker appears literally in every update that carries it, also
after a server merges updates (Hocuspocus coalesces per event-loop turn) or re-encodes them.
Receivers therefore scan the raw frame instead of applying it to a document: the load
generator stays cheap and measures the server, not pycrdt on the client.

The send time is ``time.monotonic_ns()``: CLOCK_MONOTONIC is system-wide on Linux, so
clients in different worker processes on the same machine compare timestamps directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["MARKER_FIELD", "Marker", "encode_marker", "scan_markers"]

# The root Y.Text every benchmark client edits.
MARKER_FIELD = "bench"

_PATTERN = re.compile(rb"~B(\d+)\.(\d+)\.(\d+)\.(\d+)~")


@dataclass(frozen=True, slots=True)
class Marker:
    step: int
    sender: int
    seq: int
    sent_ns: int


def encode_marker(step: int, sender: int, seq: int, sent_ns: int) -> str:
    if min(step, sender, seq, sent_ns) < 0:
        raise ValueError("marker fields must be non-negative")
    return f"~B{step}.{sender}.{seq}.{sent_ns}~"


def scan_markers(data: bytes) -> Iterator[Marker]:
    """Every marker carried by ``data`` (a whole frame or an update), in byte order."""
    for match in _PATTERN.finditer(data):
        step, sender, seq, sent = match.groups()
        yield Marker(int(step), int(sender), int(seq), int(sent))
