"""Store records on a link: plain msgpack arrays, converted at each end (pure)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from storage import Append, LoadedDoc, SessionRecord, VersionRecord

__all__ = [
    "StoreMethod",
    "append_from_wire",
    "append_to_wire",
    "loaded_from_wire",
    "loaded_to_wire",
    "record_from_wire",
    "record_to_wire",
    "version_from_wire",
    "version_to_wire",
]


class StoreMethod(IntEnum):
    CREATE_SESSION = 1
    GET_SESSION = 2
    LIST_SESSIONS = 3
    LOAD = 4
    APPEND = 5
    SNAPSHOT = 6
    DELETE_SESSION = 7
    SAVE_VERSION = 8
    LIST_VERSIONS = 9
    LOAD_VERSION = 10
    DELETE_VERSIONS = 11


def record_to_wire(record: SessionRecord) -> list[Any]:
    return [record.id, record.name, record.description, record.revision, record.created_at, record.updated_at]


def record_from_wire(value: list[Any]) -> SessionRecord:
    return SessionRecord(*value)


def append_to_wire(row: Append) -> list[Any]:
    return [row.session_id, row.seq, row.data, row.revision, row.updated_at]


def append_from_wire(value: list[Any]) -> Append:
    return Append(*value)


def loaded_to_wire(loaded: LoadedDoc) -> list[Any]:
    return [
        record_to_wire(loaded.record),
        loaded.snapshot,
        loaded.snapshot_seq,
        [[seq, data] for seq, data in loaded.updates],
    ]


def loaded_from_wire(value: list[Any]) -> LoadedDoc:
    record, snapshot, snapshot_seq, updates = value
    return LoadedDoc(
        record=record_from_wire(record),
        snapshot=snapshot,
        snapshot_seq=snapshot_seq,
        updates=[(seq, data) for seq, data in updates],
    )


def version_to_wire(version: VersionRecord) -> list[Any]:
    v = version
    return [v.session_id, v.id, v.revision, v.seq, v.created_at, v.author, v.label, v.kind]


def version_from_wire(value: list[Any]) -> VersionRecord:
    return VersionRecord(*value)
