"""The Bridge store's operations: sessions, their update log, snapshots and versions.

``retry``: safe to send again when the link broke after sending (reads; appends and
snapshots are idempotent per (session, seq)); a create or delete is not, its second
answer would not be the first's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from storage import Append, LoadedDoc, SessionRecord, VersionRecord

from .base import StoreOp

__all__ = [
    "AppendRows",
    "CreateSession",
    "DeleteSession",
    "DeleteVersions",
    "GetSession",
    "ListSessions",
    "ListVersions",
    "Load",
    "LoadVersion",
    "SaveVersion",
    "Snapshot",
]


class CreateSession(StoreOp, tag="create", frozen=True):
    record: SessionRecord
    initial: bytes
    retry: ClassVar[bool] = False


class GetSession(StoreOp, tag="get", frozen=True):
    session_id: str
    answer: ClassVar[Any] = SessionRecord | None


class ListSessions(StoreOp, tag="list", frozen=True):
    limit: int
    offset: int
    answer: ClassVar[Any] = list[SessionRecord]


class Load(StoreOp, tag="load", frozen=True):
    """Load a session to host it: from now on only the loading process may write it."""

    session_id: str
    answer: ClassVar[Any] = LoadedDoc | None


class AppendRows(StoreOp, tag="append", frozen=True):
    rows: list[Append]


class Snapshot(StoreOp, tag="snapshot", frozen=True):
    session_id: str
    seq: int
    data: bytes


class DeleteSession(StoreOp, tag="delete", frozen=True):
    session_id: str
    answer: ClassVar[Any] = bool
    retry: ClassVar[bool] = False


class SaveVersion(StoreOp, tag="save_version", frozen=True):
    version: VersionRecord
    data: bytes
    answer: ClassVar[Any] = bool
    retry: ClassVar[bool] = False


class ListVersions(StoreOp, tag="versions", frozen=True):
    session_id: str
    answer: ClassVar[Any] = list[VersionRecord]


class LoadVersion(StoreOp, tag="load_version", frozen=True):
    session_id: str
    version_id: str
    answer: ClassVar[Any] = tuple[VersionRecord, bytes] | None


class DeleteVersions(StoreOp, tag="delete_versions", frozen=True):
    session_id: str
    version_ids: list[str]
    answer: ClassVar[Any] = int
    retry: ClassVar[bool] = False
