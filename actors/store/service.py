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

from storage import StorageSettings

from ..core.errors import ValidationError, error_to_wire
from ..link import Kind, Link, LinkAddress, LinkServer, LinkSettings
from ..runtime import node_link_settings
from ..singleflight import SingleFlight
from .client import StoreCore
from .errors import STORE_ERRORS
from .handlers import STORE_OPS, Caller
from .ops import StoreOp, answer_to_wire
from .writers import Writers

__all__ = ["STORE_ACTOR_NAME", "StoreLinkHandler", "StoreService"]

log = logging.getLogger(__name__)

STORE_ACTOR_NAME = "atelier-store"


class StoreLinkHandler:
    """Answers store requests arriving on links; each request runs as its own task.

    A request carries an op's tag and fields (``STORE_OPS`` decodes it and runs its
    handler); a failure carries a store error's wire form (``STORE_ERRORS``).
    """

    def __init__(self, core: StoreCore) -> None:
        self._core = core
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers = Writers()

    def attach(self, link: Link) -> None:
        link.handler = self._handle

    def _handle(self, link: Link, message: list[Any]) -> None:
        if message[0] != Kind.REQUEST:
            log.warning("store link: unexpected message kind=%s", message[0])
            return
        _, request_id, tag, fields = message
        try:
            op = STORE_OPS.decode(tag, fields)
        except ValidationError as exc:  # a client of another build: its request alone fails
            link.fail(request_id, *error_to_wire(exc))
            return
        task = asyncio.get_running_loop().create_task(self._answer(link, request_id, op))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, link: Link, request_id: int, op: StoreOp[Any]) -> None:
        try:
            value = answer_to_wire(await STORE_OPS.run(Caller(self._core, self._writers, link), op))
        except Exception as exc:  # a bug must cost its request, never leave its caller waiting
            form = STORE_ERRORS.to_wire(exc)
            if form is None and isinstance(exc, ValueError):
                form = type(exc).__name__, str(exc), None
            if form is None:
                log.exception("store request failed op=%s", type(op).__name__)
                form = "StoreError", f"internal error: {exc}", None
            link.fail(request_id, *form)
            return
        link.reply(request_id, value)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


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
