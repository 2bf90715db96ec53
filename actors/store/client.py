"""How session hosts and the session client reach the store.

``StoreClient`` is what they need. ``StoreCore`` is the store itself (opened in this
process, appends group-committed); ``LinkStoreClient`` reaches the one store owner of
the cluster over a link, so a flush costs a link round trip, not a Ray call. Every
request it sends is one typed op (``actors/store/ops``) through ``call``; its named
methods, and those of the engine and workspace stores it hands out, are one line each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar, cast

import msgspec

from storage import (
    Append,
    GroupCommitter,
    LoadedDoc,
    SessionRecord,
    StorageSettings,
    Store,
    StoreError,
    VersionRecord,
    make_store,
)
from storage.engine import (
    BomLine,
    Design,
    DesignSessionRecord,
    Eco,
    EngineStore,
    Item,
    LifecycleState,
    MaterializationOutcome,
    MaterializationPlan,
    Program,
    StoredEvent,
    make_engine_store,
)
from storage.workspace import WorkspaceStore, make_workspace_store

from ..core.ops import encode
from ..link import Link, LinkAddress, LinkClosed, LinkSettings, RemoteFailure, dial
from ..singleflight import SingleFlight
from .engine_client import LinkEngineStore
from .errors import STORE_ERRORS
from .ops import StoreOp, answer_from_wire
from .ops import bridge as ops
from .workspace_client import LinkWorkspaceStore

__all__ = ["EngineStoreClient", "LinkEngineStore", "LinkStoreClient", "StoreClient", "StoreCore"]

R = TypeVar("R")

log = logging.getLogger(__name__)


class StoreClient(Protocol):
    async def create_session(self, record: SessionRecord, initial: bytes) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]: ...

    async def load(self, session_id: str) -> LoadedDoc | None: ...

    async def append(self, rows: Sequence[Append]) -> None: ...

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None: ...

    async def delete_session(self, session_id: str) -> bool: ...

    async def save_version(self, version: VersionRecord, data: bytes) -> bool: ...

    async def list_versions(self, session_id: str) -> list[VersionRecord]: ...

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None: ...

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int: ...


class EngineStoreClient(Protocol):
    """What sessions and the session client need of the design engine's store."""

    async def create_program(self, program: Program) -> None: ...

    async def get_program(self, program_id: str) -> Program | None: ...

    async def list_programs(self, user_id: str) -> list[Program]: ...

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None: ...

    async def member_role(self, program_id: str, user_id: str) -> str | None: ...

    async def create_design(self, design: Design) -> None: ...

    async def get_design(self, design_id: str) -> Design | None: ...

    async def list_designs(self, program_id: str) -> list[Design]: ...

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design: ...

    async def create_session(self, record: DesignSessionRecord) -> None: ...

    async def get_session(self, session_id: str) -> DesignSessionRecord | None: ...

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]: ...

    async def save_session_with_events(
        self, record: DesignSessionRecord, expected_revision: int, events: Sequence[StoredEvent]
    ) -> DesignSessionRecord: ...

    async def delete_session(self, session_id: str) -> bool: ...

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]: ...

    async def last_event_id(self, session_id: str) -> int: ...

    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]: ...

    async def get_item(self, item_id: str) -> Item | None: ...

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]: ...

    async def get_eco(self, eco_id: str) -> Eco | None: ...

    async def design_bom(self, design_id: str) -> list[BomLine]: ...

    async def item_requirements(self, item_id: str) -> list[Item]: ...

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome: ...


class StoreCore:
    """The store opened in this process; appends from every caller are group-committed."""

    def __init__(self, settings: StorageSettings) -> None:
        self._settings = settings
        self._store: Store = make_store(settings)
        self._committer = GroupCommitter(self._store, settings.group_commit_max_rows)
        self.workspace: WorkspaceStore = make_workspace_store(
            settings.database_url,
            settings.data_dir,
            pg_max_connections=settings.engine_pg_max_connections,
            pg_schema=settings.engine_pg_schema,
            sqlite_synchronous=settings.sqlite_synchronous,
            application_name=f"{settings.pg_application_name}-workspace",
        )
        self.engine: EngineStore = make_engine_store(
            settings.database_url,
            settings.data_dir,
            pg_max_connections=settings.engine_pg_max_connections,
            pg_schema=settings.engine_pg_schema,
            sqlite_synchronous=settings.sqlite_synchronous,
            application_name=f"{settings.pg_application_name}-engine",
        )

    @property
    def kind(self) -> str:
        return self._settings.store_kind

    @property
    def committer(self) -> GroupCommitter:
        return self._committer

    async def open(self) -> None:
        await self._store.open()
        await self.engine.open()
        await self.workspace.open()

    async def close(self) -> None:
        await self._committer.stop()
        await self._store.close()
        await self.engine.close()
        await self.workspace.close()

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self._store.create_session(record, initial)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._store.get_session(session_id)

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        return await self._store.list_sessions(limit, offset)

    async def load(self, session_id: str) -> LoadedDoc | None:
        # Rows a previous owner queued before this load are part of what is loaded.
        await self._committer.barrier()
        return await self._store.load(session_id)

    async def append(self, rows: Sequence[Append]) -> None:
        await self._committer.append(rows)

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._store.snapshot(session_id, seq, data)

    async def delete_session(self, session_id: str) -> bool:
        return await self._store.delete_session(session_id)

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        return await self._store.save_version(version, data)

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        return await self._store.list_versions(session_id)

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        return await self._store.load_version(session_id, version_id)

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int:
        return await self._store.delete_versions(session_id, version_ids)


class LinkStoreClient:
    """StoreClient over a link to the store owner; redials when the link breaks.

    A broken link surfaces as ``StoreError`` (the outcome is unknown): flushes retry,
    REST callers answer 503. Appends are idempotent per (session, seq), so retrying a
    flush whose commit did happen is harmless.
    """

    def __init__(
        self, resolve: Callable[[], Awaitable[LinkAddress]], settings: LinkSettings, name: str
    ) -> None:
        self._resolve = resolve
        self._settings = settings
        self._name = name
        self._link: Link | None = None
        self._reader: asyncio.Task[None] | None = None
        self._dialing: SingleFlight[str, Link] = SingleFlight()

    @property
    def queued(self) -> int:
        """Messages waiting on the link to the store owner (for metrics)."""
        return 0 if self._link is None else self._link.queued

    async def _connected(self) -> Link:
        link = self._link
        if link is not None and not link.closed:
            return link
        return await self._dialing.run("store", self._dial)

    async def _dial(self) -> Link:
        address = await self._resolve()
        link, reader = await dial(address, f"{self._name}->store", self._settings)
        self._link, self._reader = link, reader
        return link

    async def call(self, op: StoreOp[R]) -> R:
        """The store owner's answer to ``op``, rebuilt as the type the op names.

        A store error comes back as itself (``STORE_ERRORS``); one the store could not
        name, or a broken link, as ``StoreError``. ``op.retry`` says whether a caller may
        send it again after that.
        """
        tag, fields = encode(op)
        try:
            link = await self._connected()
            value = await link.request(tag, fields)
        except RemoteFailure as exc:
            error = STORE_ERRORS.from_wire(exc.kind, exc.message, exc.detail)
            raise (error if error is not None else StoreError(exc.message)) from None
        except LinkClosed as exc:
            raise StoreError(f"store unreachable: {exc}") from exc
        try:
            return answer_from_wire(type(op), value)
        except msgspec.ValidationError as exc:  # a store owner of another build
            raise StoreError(f"malformed store answer to {tag}: {exc}") from None

    @property
    def engine(self) -> LinkEngineStore:
        return LinkEngineStore(self)

    @property
    def workspace(self) -> WorkspaceStore:
        # The store owner opens and closes the store: this side has nothing to.
        return cast(WorkspaceStore, LinkWorkspaceStore(self))

    async def close(self) -> None:
        if self._link is not None:
            await self._link.close("client closing")
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # -- Bridge: one op each ------------------------------------------------------------

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self.call(ops.CreateSession(record, initial))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return cast(SessionRecord | None, await self.call(ops.GetSession(session_id)))

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        return cast(list[SessionRecord], await self.call(ops.ListSessions(limit, offset)))

    async def load(self, session_id: str) -> LoadedDoc | None:
        return cast(LoadedDoc | None, await self.call(ops.Load(session_id)))

    async def append(self, rows: Sequence[Append]) -> None:
        await self.call(ops.AppendRows(list(rows)))

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self.call(ops.Snapshot(session_id, seq, data))

    async def delete_session(self, session_id: str) -> bool:
        return cast(bool, await self.call(ops.DeleteSession(session_id)))

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        return cast(bool, await self.call(ops.SaveVersion(version, data)))

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        return cast(list[VersionRecord], await self.call(ops.ListVersions(session_id)))

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        return await self.call(ops.LoadVersion(session_id, version_id))

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int:
        return cast(int, await self.call(ops.DeleteVersions(session_id, list(version_ids))))
