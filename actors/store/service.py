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
from .wire import StoreMethod, append_from_wire, loaded_to_wire, record_from_wire, record_to_wire

__all__ = ["STORE_ACTOR_NAME", "StoreLinkHandler", "StoreService"]

log = logging.getLogger(__name__)

STORE_ACTOR_NAME = "atelier-store"


class StoreLinkHandler:
    """Answers store requests arriving on links; each request runs as its own task."""

    def __init__(self, core: StoreCore) -> None:
        self._core = core
        self._tasks: set[asyncio.Task[None]] = set()

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
                value = await self._dispatch(StoreMethod(method), args)
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

    async def _dispatch(self, method: StoreMethod, args: list[Any]) -> Any:
        core = self._core
        if method is StoreMethod.APPEND:
            await core.append([append_from_wire(row) for row in args[0]])
            return None
        if method is StoreMethod.LOAD:
            loaded = await core.load(args[0])
            return None if loaded is None else loaded_to_wire(loaded)
        if method is StoreMethod.CREATE_SESSION:
            await core.create_session(record_from_wire(args[0]), args[1])
            return None
        if method is StoreMethod.GET_SESSION:
            record = await core.get_session(args[0])
            return None if record is None else record_to_wire(record)
        if method is StoreMethod.LIST_SESSIONS:
            return [record_to_wire(r) for r in await core.list_sessions(args[0], args[1])]
        if method is StoreMethod.SNAPSHOT:
            await core.snapshot(args[0], args[1], args[2])
            return None
        if method is StoreMethod.DELETE_SESSION:
            return await core.delete_session(args[0])
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

    async def stats(self) -> dict[str, int]:
        await self.address()
        assert self._core is not None
        return {
            "transactions": self._core.committer.transactions,
            "rows": self._core.committer.rows,
            "pid": os.getpid(),
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
