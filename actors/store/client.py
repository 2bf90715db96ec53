"""How session hosts and the session client reach the store.

``StoreClient`` is what they need. ``StoreCore`` is the store itself (opened in this
process, appends group-committed); ``LinkStoreClient`` reaches the one store owner of
the cluster over a link, so a flush costs a link round trip, not a Ray call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, cast

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
    Conflict,
    Design,
    DesignSessionRecord,
    Eco,
    EngineStore,
    EngineStoreError,
    InvalidPlan,
    Item,
    LifecycleState,
    MaterializationOutcome,
    MaterializationPlan,
    NotFound,
    Program,
    StaleRevision,
    StoredEvent,
    make_engine_store,
)
from storage.workspace import RunInProgress, WorkspaceStore, WorkspaceStoreError, make_workspace_store

from ..link import Link, LinkAddress, LinkClosed, LinkSettings, RemoteFailure, dial
from ..singleflight import SingleFlight
from .engine_wire import WORKSPACE_METHODS, EngineMethod, from_wire, to_wire
from .wire import (
    StoreMethod,
    append_to_wire,
    loaded_from_wire,
    record_from_wire,
    record_to_wire,
    version_from_wire,
    version_to_wire,
)

__all__ = ["EngineStoreClient", "LinkEngineStore", "LinkStoreClient", "StoreClient", "StoreCore"]

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

    async def _call(self, method: int, args: list[Any]) -> Any:
        try:
            link = await self._connected()
            return await link.request(method, args)
        except RemoteFailure as exc:
            error = _ENGINE_ERRORS.get(exc.kind)
            if error is StaleRevision:
                raise StaleRevision(str(exc.detail), -1, -1) from None
            if exc.kind == "RunInProgress":
                raise RunInProgress("", str(exc.detail)) from None
            if exc.kind in _WORKSPACE_ERRORS:
                raise _WORKSPACE_ERRORS[exc.kind](exc.message) from None
            raise (error or StoreError)(exc.message) from None
        except LinkClosed as exc:
            raise StoreError(f"store unreachable: {exc}") from exc

    @property
    def engine(self) -> LinkEngineStore:
        return LinkEngineStore(self)

    @property
    def workspace(self) -> WorkspaceStore:
        return cast(WorkspaceStore, _LinkWorkspaceStore(self))

    async def close(self) -> None:
        if self._link is not None:
            await self._link.close("client closing")
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def create_session(self, record: SessionRecord, initial: bytes) -> None:
        await self._call(StoreMethod.CREATE_SESSION, [record_to_wire(record), initial])

    async def get_session(self, session_id: str) -> SessionRecord | None:
        value = await self._call(StoreMethod.GET_SESSION, [session_id])
        return None if value is None else record_from_wire(value)

    async def list_sessions(self, limit: int, offset: int) -> list[SessionRecord]:
        values = await self._call(StoreMethod.LIST_SESSIONS, [limit, offset])
        return [record_from_wire(value) for value in values]

    async def load(self, session_id: str) -> LoadedDoc | None:
        value = await self._call(StoreMethod.LOAD, [session_id])
        return None if value is None else loaded_from_wire(value)

    async def append(self, rows: Sequence[Append]) -> None:
        await self._call(StoreMethod.APPEND, [[append_to_wire(row) for row in rows]])

    async def snapshot(self, session_id: str, seq: int, data: bytes) -> None:
        await self._call(StoreMethod.SNAPSHOT, [session_id, seq, data])

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._call(StoreMethod.DELETE_SESSION, [session_id]))

    async def save_version(self, version: VersionRecord, data: bytes) -> bool:
        return bool(await self._call(StoreMethod.SAVE_VERSION, [version_to_wire(version), data]))

    async def list_versions(self, session_id: str) -> list[VersionRecord]:
        values = await self._call(StoreMethod.LIST_VERSIONS, [session_id])
        return [version_from_wire(value) for value in values]

    async def load_version(self, session_id: str, version_id: str) -> tuple[VersionRecord, bytes] | None:
        value = await self._call(StoreMethod.LOAD_VERSION, [session_id, version_id])
        return None if value is None else (version_from_wire(value[0]), bytes(value[1]))

    async def delete_versions(self, session_id: str, version_ids: Sequence[str]) -> int:
        return int(await self._call(StoreMethod.DELETE_VERSIONS, [session_id, list(version_ids)]))


class _LinkWorkspaceStore:
    """The workspace store at the store owner: each allowed method becomes one link request."""

    def __init__(self, client: LinkStoreClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name not in WORKSPACE_METHODS:
            raise AttributeError(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return from_wire(
                await self._client._call(EngineMethod.WORKSPACE, [name, to_wire(list(args)), to_wire(kwargs)])
            )

        return call


# Workspace store errors by name (IllegalTransition carries its text only across a link).
_WORKSPACE_ERRORS: dict[str, Callable[[str], StoreError]] = {
    "IllegalTransition": WorkspaceStoreError,
    "WorkspaceStoreError": WorkspaceStoreError,
}

_ENGINE_ERRORS: dict[str, type[StoreError]] = {
    "NotFound": NotFound,
    "Conflict": Conflict,
    "StaleRevision": StaleRevision,
    "EngineStoreError": EngineStoreError,
    "InvalidPlan": InvalidPlan,
}


class LinkEngineStore:
    """The design engine's store, at the store owner, over the same link."""

    def __init__(self, client: LinkStoreClient) -> None:
        self._client = client

    async def _call(self, method: EngineMethod, *args: Any) -> Any:
        return from_wire(await self._client._call(method, to_wire(list(args))))

    async def create_program(self, program: Program) -> None:
        await self._call(EngineMethod.CREATE_PROGRAM, program)

    async def get_program(self, program_id: str) -> Program | None:
        result: Program | None = await self._call(EngineMethod.GET_PROGRAM, program_id)
        return result

    async def list_programs(self, user_id: str) -> list[Program]:
        result: list[Program] = await self._call(EngineMethod.LIST_PROGRAMS, user_id)
        return result

    async def add_member(self, program_id: str, user_id: str, role: str = "member") -> None:
        await self._call(EngineMethod.ADD_MEMBER, program_id, user_id, role)

    async def member_role(self, program_id: str, user_id: str) -> str | None:
        result: str | None = await self._call(EngineMethod.MEMBER_ROLE, program_id, user_id)
        return result

    async def create_design(self, design: Design) -> None:
        await self._call(EngineMethod.CREATE_DESIGN, design)

    async def get_design(self, design_id: str) -> Design | None:
        result: Design | None = await self._call(EngineMethod.GET_DESIGN, design_id)
        return result

    async def list_designs(self, program_id: str) -> list[Design]:
        result: list[Design] = await self._call(EngineMethod.LIST_DESIGNS, program_id)
        return result

    async def set_design_state(
        self, design_id: str, state: LifecycleState, *, updated_at: str | None = None
    ) -> Design:
        result: Design = await self._call(EngineMethod.SET_DESIGN_STATE, design_id, state, updated_at)
        return result

    async def create_session(self, record: DesignSessionRecord) -> None:
        await self._call(EngineMethod.CREATE_SESSION, record)

    async def get_session(self, session_id: str) -> DesignSessionRecord | None:
        result: DesignSessionRecord | None = await self._call(EngineMethod.GET_SESSION, session_id)
        return result

    async def list_sessions(self, user_id: str, limit: int, offset: int = 0) -> list[DesignSessionRecord]:
        result: list[DesignSessionRecord] = await self._call(
            EngineMethod.LIST_SESSIONS, user_id, limit, offset
        )
        return result

    async def save_session_with_events(
        self, record: DesignSessionRecord, expected_revision: int, events: Sequence[StoredEvent]
    ) -> DesignSessionRecord:
        result: DesignSessionRecord = await self._call(
            EngineMethod.SAVE_SESSION_WITH_EVENTS, record, expected_revision, list(events)
        )
        return result

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._call(EngineMethod.DELETE_SESSION, session_id))

    async def read_events(self, session_id: str, after_id: int, limit: int) -> list[StoredEvent]:
        result: list[StoredEvent] = await self._call(EngineMethod.READ_EVENTS, session_id, after_id, limit)
        return result

    async def last_event_id(self, session_id: str) -> int:
        return int(await self._call(EngineMethod.LAST_EVENT_ID, session_id))

    async def search_items(self, owner_id: str, query: str, limit: int) -> list[Item]:
        result: list[Item] = await self._call(EngineMethod.SEARCH_ITEMS, owner_id, query, limit)
        return result

    async def get_item(self, item_id: str) -> Item | None:
        result: Item | None = await self._call(EngineMethod.GET_ITEM, item_id)
        return result

    async def get_items(self, item_ids: Sequence[str]) -> list[Item]:
        result: list[Item] = await self._call(EngineMethod.GET_ITEMS, list(item_ids))
        return result

    async def get_eco(self, eco_id: str) -> Eco | None:
        result: Eco | None = await self._call(EngineMethod.GET_ECO, eco_id)
        return result

    async def design_bom(self, design_id: str) -> list[BomLine]:
        result: list[BomLine] = await self._call(EngineMethod.DESIGN_BOM, design_id)
        return result

    async def item_requirements(self, item_id: str) -> list[Item]:
        result: list[Item] = await self._call(EngineMethod.ITEM_REQUIREMENTS, item_id)
        return result

    async def materialize(
        self, plan: MaterializationPlan, session: DesignSessionRecord, expected_revision: int
    ) -> MaterializationOutcome:
        result: MaterializationOutcome = await self._call(
            EngineMethod.MATERIALIZE, plan, session, expected_revision
        )
        return result
