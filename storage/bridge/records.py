"""Plain records that cross the storage boundary (and the Ray boundary: all picklable).

They are immutable ``msgspec`` structs sent as arrays: every Bridge update row crosses the
link to the store owner (APPEND) and every load brings a log back (LOAD), and as arrays
they encode and decode in about half the time a map per record takes (measured).
"""

from __future__ import annotations

import msgspec

__all__ = ["Append", "LoadedDoc", "SessionRecord", "VersionRecord"]


class SessionRecord(msgspec.Struct, frozen=True, array_like=True):
    id: str
    name: str
    description: str
    revision: int
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "revision": self.revision,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    def advanced(self, revision: int, updated_at: str) -> SessionRecord:
        return msgspec.structs.replace(self, revision=revision, updated_at=updated_at)


class Append(msgspec.Struct, frozen=True, array_like=True):
    """One document update for the write-ahead log, with the session revision it makes."""

    session_id: str
    seq: int
    data: bytes
    revision: int
    updated_at: str


class LoadedDoc(msgspec.Struct, frozen=True, array_like=True):
    """What a session is rebuilt from: its record, the latest snapshot and the log after it."""

    record: SessionRecord
    snapshot: bytes | None
    snapshot_seq: int
    updates: list[tuple[int, bytes]] = msgspec.field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.updates[-1][0] if self.updates else self.snapshot_seq


class VersionRecord(msgspec.Struct, frozen=True, array_like=True):
    """A named or automatic version of a Bridge session (its Yjs state is stored beside it).

    ``seq`` is the last log sequence the version's state includes; ``author`` says who
    brought the document there (``agent:<agentId>``, ``connection:<id>``, ``api``);
    ``kind`` is ``auto`` or ``manual``.
    """

    session_id: str
    id: str
    revision: int
    seq: int
    created_at: str
    author: str
    label: str
    kind: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "revision": self.revision,
            "createdAt": self.created_at,
            "author": self.author,
            "label": self.label,
            "kind": self.kind,
        }
