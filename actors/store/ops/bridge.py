"""The Bridge store's operations: sessions, their update log, snapshots and versions.

``retry``: safe to send again when the link broke after sending (reads; appends and
snapshots are idempotent per (session, seq)); a create or delete is not, its second
answer would not be the first's.
"""

from __future__ import annotations

from typing import ClassVar

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


class CreateSession(StoreOp[None], tag="create", frozen=True):
    record: SessionRecord
    initial: bytes
    retry: ClassVar[bool] = False


class GetSession(StoreOp[SessionRecord | None], tag="get", frozen=True):
    session_id: str


class ListSessions(StoreOp[list[SessionRecord]], tag="list", frozen=True):
    limit: int
    offset: int


class Load(StoreOp[LoadedDoc | None], tag="load", frozen=True):
    """Load a session to host it: from now on only the loading process may write it."""

    session_id: str


class AppendRows(StoreOp[None], tag="append", frozen=True):
    rows: list[Append]


class Snapshot(StoreOp[None], tag="snapshot", frozen=True):
    session_id: str
    seq: int
    data: bytes


class DeleteSession(StoreOp[bool], tag="delete", frozen=True):
    session_id: str
    retry: ClassVar[bool] = False


class SaveVersion(StoreOp[bool], tag="save_version", frozen=True):
    version: VersionRecord
    data: bytes
    retry: ClassVar[bool] = False


class ListVersions(StoreOp[list[VersionRecord]], tag="versions", frozen=True):
    session_id: str


class LoadVersion(StoreOp[tuple[VersionRecord, bytes] | None], tag="load_version", frozen=True):
    session_id: str
    version_id: str


class DeleteVersions(StoreOp[int], tag="delete_versions", frozen=True):
    session_id: str
    version_ids: list[str]
    retry: ClassVar[bool] = False
