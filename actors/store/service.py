"""The store owner: one process per cluster holding the store's connections.

Hundreds of sessions in a handful of hosts share it, so Postgres sees one bounded pool,
SQLite keeps its single writer, and appends arriving together from every host commit in
one transaction. Hosts and gateways reach it over links; Ray only places it, restarts it
and tells its address.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from storage import StorageSettings, StoreError
from storage.engine import EngineStore, LifecycleState, StaleRevision
from storage.workspace import RunInProgress

from ..link import Kind, Link, LinkAddress, LinkServer, LinkSettings
from ..runtime import node_link_settings
from ..singleflight import SingleFlight
from .client import StoreCore
from .engine_wire import WORKSPACE_METHODS, EngineMethod, from_wire, to_wire
from .wire import (
    StoreMethod,
    append_from_wire,
    loaded_to_wire,
    record_from_wire,
    record_to_wire,
    version_from_wire,
    version_to_wire,
)

__all__ = ["STORE_ACTOR_NAME", "StoreLinkHandler", "StoreService"]

log = logging.getLogger(__name__)

STORE_ACTOR_NAME = "atelier-store"
_WRITERS_PRUNE_AT = 10_000  # writer entries before those of closed links are dropped


class StoreLinkHandler:
    """Answers store requests arriving on links; each request runs as its own task."""

    def __init__(self, core: StoreCore) -> None:
        self._core = core
        self._tasks: set[asyncio.Task[None]] = set()
        # The process (its link) that last loaded or created each Bridge session: only it
        # may write the session's log. A host declared dead may still have rows on the way;
        # were they committed after its successor loaded, both would write the same sequence
        # numbers and the successor's acknowledged rows would be the ones ignored. Keyed by
        # the dialling process, so a live host that redials keeps its sessions.
        self._writers: dict[str, Link] = {}
        self._prune_at = _WRITERS_PRUNE_AT

    def attach(self, link: Link) -> None:
        link.handler = self._handle

    def _handle(self, link: Link, message: list[Any]) -> None:
        if message[0] != Kind.REQUEST:
            log.warning("store link: unexpected message kind=%s", message[0])
            return
        _, request_id, method, args = message
        task = asyncio.get_running_loop().create_task(self._answer(link, request_id, method, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, link: Link, request_id: int, method: int, args: list[Any]) -> None:
        try:
            if method == EngineMethod.WORKSPACE:
                name, call_args, call_kwargs = args
                if name not in WORKSPACE_METHODS:
                    raise ValueError(f"unknown workspace store method {name!r}")
                call = getattr(self._core.workspace, name)
                value = to_wire(await call(*from_wire(call_args), **from_wire(call_kwargs)))
            elif method in _ENGINE_METHODS:
                value = to_wire(await _engine_call(self._core.engine, EngineMethod(method), from_wire(args)))
            else:
                value = await self._dispatch(link, StoreMethod(method), args)
        except StaleRevision as exc:
            link.fail(request_id, "StaleRevision", str(exc), exc.session_id)
            return
        except RunInProgress as exc:
            link.fail(request_id, "RunInProgress", str(exc), exc.run_id)
            return
        except (StoreError, ValueError) as exc:
            link.fail(request_id, type(exc).__name__, str(exc))
            return
        except Exception as exc:  # a bug must cost its request, never leave its caller waiting
            log.exception("store request failed method=%s", method)
            link.fail(request_id, "StoreError", f"internal error: {exc}")
            return
        link.reply(request_id, value)

    def _own(self, session_id: str, link: Link) -> None:
        self._writers[session_id] = link
        if len(self._writers) >= self._prune_at:
            # A closed link sends nothing more: its sessions' entries can go.
            self._writers = {sid: owner for sid, owner in self._writers.items() if not owner.closed}
            self._prune_at = max(_WRITERS_PRUNE_AT, 2 * len(self._writers))

    def _fence(self, link: Link, session_ids: set[str]) -> None:
        for session_id in session_ids:
            writer = self._writers.setdefault(session_id, link)
            if writer is link:
                continue
            if not link.peer or writer.peer != link.peer:
                raise StoreError(
                    f"session {session_id} was loaded by another host: this one may not write it"
                )
            self._writers[session_id] = link  # the same process, redialled

    async def _dispatch(self, link: Link, method: StoreMethod, args: list[Any]) -> Any:
        core = self._core
        if method is StoreMethod.APPEND:
            rows = [append_from_wire(row) for row in args[0]]
            self._fence(link, {row.session_id for row in rows})
            await core.append(rows)
            return None
        if method is StoreMethod.LOAD:
            self._own(args[0], link)
            loaded = await core.load(args[0])
            return None if loaded is None else loaded_to_wire(loaded)
        if method is StoreMethod.CREATE_SESSION:
            created = record_from_wire(args[0])
            self._own(created.id, link)
            await core.create_session(created, args[1])
            return None
        if method is StoreMethod.GET_SESSION:
            record = await core.get_session(args[0])
            return None if record is None else record_to_wire(record)
        if method is StoreMethod.LIST_SESSIONS:
            return [record_to_wire(r) for r in await core.list_sessions(args[0], args[1])]
        if method is StoreMethod.SNAPSHOT:
            self._fence(link, {args[0]})
            await core.snapshot(args[0], args[1], args[2])
            return None
        if method is StoreMethod.DELETE_SESSION:
            self._writers.pop(args[0], None)
            return await core.delete_session(args[0])
        if method is StoreMethod.SAVE_VERSION:
            return await core.save_version(version_from_wire(args[0]), args[1])
        if method is StoreMethod.LIST_VERSIONS:
            return [version_to_wire(v) for v in await core.list_versions(args[0])]
        if method is StoreMethod.LOAD_VERSION:
            found = await core.load_version(args[0], args[1])
            return None if found is None else [version_to_wire(found[0]), found[1]]
        if method is StoreMethod.DELETE_VERSIONS:
            return await core.delete_versions(args[0], args[1])
        raise ValueError(f"unknown store method {method}")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_ENGINE_METHODS = frozenset(int(m) for m in EngineMethod if m is not EngineMethod.WORKSPACE)


async def _engine_call(store: EngineStore, method: EngineMethod, args: list[Any]) -> Any:
    if method is EngineMethod.SAVE_SESSION_WITH_EVENTS:
        return await store.save_session_with_events(args[0], args[1], args[2])
    if method is EngineMethod.GET_SESSION:
        return await store.get_session(args[0])
    if method is EngineMethod.READ_EVENTS:
        return await store.read_events(args[0], args[1], args[2])
    if method is EngineMethod.LAST_EVENT_ID:
        return await store.last_event_id(args[0])
    if method is EngineMethod.CREATE_SESSION:
        return await store.create_session(args[0])
    if method is EngineMethod.LIST_SESSIONS:
        return await store.list_sessions(args[0], args[1], args[2])
    if method is EngineMethod.DELETE_SESSION:
        return await store.delete_session(args[0])
    if method is EngineMethod.CREATE_PROGRAM:
        return await store.create_program(args[0])
    if method is EngineMethod.GET_PROGRAM:
        return await store.get_program(args[0])
    if method is EngineMethod.LIST_PROGRAMS:
        return await store.list_programs(args[0])
    if method is EngineMethod.ADD_MEMBER:
        return await store.add_member(args[0], args[1], args[2])
    if method is EngineMethod.MEMBER_ROLE:
        return await store.member_role(args[0], args[1])
    if method is EngineMethod.CREATE_DESIGN:
        return await store.create_design(args[0])
    if method is EngineMethod.GET_DESIGN:
        return await store.get_design(args[0])
    if method is EngineMethod.LIST_DESIGNS:
        return await store.list_designs(args[0])
    if method is EngineMethod.SEARCH_ITEMS:
        return await store.search_items(args[0], args[1], args[2])
    if method is EngineMethod.GET_ITEM:
        return await store.get_item(args[0])
    if method is EngineMethod.GET_ITEMS:
        return await store.get_items(args[0])
    if method is EngineMethod.GET_ECO:
        return await store.get_eco(args[0])
    if method is EngineMethod.DESIGN_BOM:
        return await store.design_bom(args[0])
    if method is EngineMethod.ITEM_REQUIREMENTS:
        return await store.item_requirements(args[0])
    if method is EngineMethod.MATERIALIZE:
        return await store.materialize(args[0], args[1], args[2])
    if method is EngineMethod.SET_DESIGN_STATE:
        return await store.set_design_state(args[0], LifecycleState(args[1]), updated_at=args[2])
    raise ValueError(f"unknown engine store method {method}")


class StoreService:
    """Ray actor shell: opens the store and its link server on first use."""

    def __init__(self, settings: StorageSettings, link_settings: LinkSettings) -> None:
        self._settings = settings
        self._link_settings = link_settings
        self._core: StoreCore | None = None
        self._handler: StoreLinkHandler | None = None
        self._server: LinkServer | None = None
        self._starting: SingleFlight[str, LinkAddress] = SingleFlight()

    async def address(self) -> LinkAddress:
        """Where to dial this store (opens it on first call)."""
        if self._server is not None and self._server.address is not None:
            return self._server.address
        return await self._starting.run("start", self._start)

    async def _start(self) -> LinkAddress:
        core = StoreCore(self._settings)
        await core.open()
        handler = StoreLinkHandler(core)
        server = LinkServer("store", node_link_settings(self._link_settings), handler.attach)
        address = await server.start()
        self._core, self._handler, self._server = core, handler, server
        log.info("store ready kind=%s pid=%d", core.kind, os.getpid())
        return address

    async def kind(self) -> str:
        await self.address()
        return self._settings.store_kind

    async def stats(self) -> dict[str, Any]:
        """Group-commit counters, queue and latency (``/metrics`` reads them), and the pid."""
        await self.address()
        assert self._core is not None
        assert self._server is not None
        committer = self._core.committer
        return {
            "transactions": committer.transactions,
            "rows": committer.rows,
            "pid": os.getpid(),
            "kind": self._core.kind,
            "queuedRows": committer.queued_rows,
            "linkQueue": sum(link.queued for link in self._server.links),
            "commit": committer.latency.snapshot().to_wire(),
        }

    async def shutdown(self) -> None:
        """Close links, then the store (its pool): called before the actor is ended."""
        if self._server is not None:
            await self._server.stop()
        if self._handler is not None:
            await self._handler.stop()
        if self._core is not None:
            await self._core.close()
        self._server = self._handler = self._core = None
