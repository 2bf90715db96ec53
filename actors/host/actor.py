"""SessionHost: the Ray actor that holds many live sessions (or one, when isolated).

A thin shell. Ray places it, restarts nothing (the placement directory replaces a dead
host and re-places its sessions) and tells its link address; gateways then reach its
sessions over links, never by a Ray call per frame.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import ray
from ray.exceptions import RayError

from storage import StorageSettings, StoreError
from storage.objects import ObjectStore, make_object_store

from ..bridge.webhooks import WebhookDeliverer
from ..engine.cad_runs import CadJobs
from ..engine.llm.factory import make_provider
from ..engine.service import EngineService
from ..link import LinkAddress, LinkServer, LinkSettings
from ..runtime import node_link_settings
from ..settings import ActorSettings
from ..singleflight import SingleFlight
from ..store.client import LinkStoreClient
from ..store.service import STORE_ACTOR_NAME
from ..workspace.pool import RayRunPool
from ..workspace.service import WorkspaceService
from .core import HostCore
from .service import HostLinkHandler

__all__ = ["SessionHost"]

log = logging.getLogger(__name__)


class SessionHost:
    def __init__(
        self,
        settings: ActorSettings,
        storage: StorageSettings,
        link_settings: LinkSettings,
        name: str,
        placement: Any,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._link_settings = link_settings
        self._name = name
        self._placement = placement
        self._store: LinkStoreClient | None = None
        self._core: HostCore | None = None
        self._handler: HostLinkHandler | None = None
        self._server: LinkServer | None = None
        self._starting: SingleFlight[str, LinkAddress] = SingleFlight()
        self._closed: asyncio.Event | None = None
        self._objects: ObjectStore | None = None

    async def address(self) -> LinkAddress:
        """Where gateways dial this host (starts its link server on first call)."""
        if self._server is not None and self._server.address is not None:
            return self._server.address
        return await self._starting.run("start", self._start)

    async def _store_address(self) -> LinkAddress:
        # While Ray restarts the store owner it is unavailable: an outage the commit loops
        # retry and log once (StoreError), not a bug with a traceback per attempt.
        try:
            store = ray.get_actor(STORE_ACTOR_NAME, namespace=self._settings.namespace)
            address: LinkAddress = await store.address.remote()
        except (RayError, ValueError) as exc:  # ValueError: no such actor (yet)
            first_line = str(exc).strip().splitlines()[:1]
            raise StoreError(f"store owner unavailable: {type(exc).__name__}: {''.join(first_line)}") from exc
        return address

    async def _claim(self, session_id: str) -> bool:
        owned: bool = await self._placement.claim.remote(session_id, self._name)
        return owned

    async def _release(self, session_id: str) -> None:
        await self._placement.release.remote(session_id, self._name)

    async def _start(self) -> LinkAddress:
        self._store = LinkStoreClient(
            self._store_address, node_link_settings(self._link_settings), self._name
        )
        self._objects = make_object_store(
            self._storage.objects_url, self._storage.data_dir, s3=self._storage.objects
        )
        await self._objects.open()
        engine = EngineService(
            self._store.engine,
            self._settings.engine,
            lambda search: make_provider(self._settings.engine.llm, search),
            cad=CadJobs(self._settings.engine.cad),
            objects=self._objects,
            presence_timeout=self._settings.presence_timeout,
        )
        work = self._settings.workspace
        workspace = WorkspaceService(
            self._store.workspace,
            work,
            lambda: RayRunPool(work.agent, work.llm, size=work.workers, namespace=self._settings.namespace),
        )
        core = HostCore(
            self._settings,
            self._store,
            engine=engine,
            workspace=workspace,
            claim=self._claim,
            release=self._release,
            webhooks=WebhookDeliverer(self._settings.webhooks),
        )
        core.start()
        handler = HostLinkHandler(core)
        server = LinkServer(self._name, node_link_settings(self._link_settings), handler.attach)
        address = await server.start()
        self._core, self._handler, self._server = core, handler, server
        log.info("host ready name=%s pid=%d", self._name, os.getpid())
        return address

    async def ping(self) -> int:
        return os.getpid()

    async def wait_closed(self) -> None:
        """Never returns while the host lives: the directory's way to learn of its death."""
        if self._closed is None:
            self._closed = asyncio.Event()
        await self._closed.wait()

    async def stats(self) -> dict[str, Any]:
        core = self._core.stats() if self._core is not None else {}
        links = self._server.links if self._server is not None else set()
        # Outbound messages waiting on this host's links: to gateways, and to the store.
        queued = sum(link.queued for link in links) + (self._store.queued if self._store is not None else 0)
        return {"pid": os.getpid(), "name": self._name, **core, "linkQueue": queued}

    async def shutdown(self) -> None:
        """Checkpoint sessions, close links: the directory calls it before ending the host."""
        if self._server is not None:
            await self._server.stop()
        if self._handler is not None:
            await self._handler.stop()
        if self._core is not None:
            await self._core.stop()
        if self._store is not None:
            await self._store.close()
        if self._objects is not None:
            await self._objects.close()
        if self._closed is not None:
            self._closed.set()
