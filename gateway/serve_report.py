"""``atelier serve``'s start-up, ready and shutdown lines, hooked into the app's lifecycle."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from actors.client import LayerStats
from actors.errors import SessionUnavailable
from actors.runtime import cluster_cpus

from .banner import Stopped, ready_line, shutdown_line, startup_line
from .settings import Settings
from .state import SESSIONS, SOCKETS, SSE_STREAMS

__all__ = ["ServeReport"]

log = logging.getLogger(__name__)


class ServeReport:
    """The start-up line once the server listens; the ready line once the session layer's
    warm-up has ended (never before the start-up line); the shutdown line once everything
    stopped.

    Printed to stdout (not logged) so they show whatever the log level, one line each.
    Made before Ray starts: the ready line counts from there.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._hosts: int | None = None
        self._began = time.monotonic()
        self._started = self._began
        self._stopping: float | None = None
        self._stopped: Stopped | None = None
        self._listening = asyncio.Event()
        self._ready: asyncio.Task[None] | None = None

    def attach(self, app: web.Application) -> None:
        # on_startup hooks run after the session layer started (cleanup_ctx comes first);
        # the note must run before the shutdown hooks close sockets and streams.
        app.on_startup.append(self._count_hosts)
        app.on_shutdown.insert(0, self._note)

    async def _layer(self, app: web.Application) -> LayerStats | None:
        try:
            return await app[SESSIONS].stats(self._settings.metrics_timeout)
        except SessionUnavailable as exc:
            log.info("session layer stats unavailable: %s", exc)
            return None

    async def _count_hosts(self, app: web.Application) -> None:
        # The hosts are still starting (in the background): the line names how many the
        # directory keeps; the ready line says how many did start.
        self._hosts = self._settings.actors.target_hosts(cluster_cpus())
        self._ready = asyncio.get_running_loop().create_task(self._print_ready(app), name="ready-line")

    async def _print_ready(self, app: web.Application) -> None:
        warmth = await app[SESSIONS].warmed()
        await self._listening.wait()
        print(ready_line(warmth, time.monotonic() - self._began), flush=True)

    def listening(self, _message: str) -> None:
        """``run_app``'s ``print``, called once the sockets are bound: our line replaces its own."""
        self._started = time.monotonic()
        print(startup_line(self._settings, self._hosts), flush=True)
        self._listening.set()

    async def _note(self, app: web.Application) -> None:
        self._stopping = time.monotonic()
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
            await asyncio.gather(self._ready, return_exceptions=True)
        stats = await self._layer(app)
        hosts = None if stats is None else stats.hosts
        self._stopped = Stopped(
            sockets=len(app[SOCKETS]),
            streams=len(app[SSE_STREAMS]),
            sessions=None if hosts is None else sum(sum(host.live.values()) for host in hosts),
            hosts=None if hosts is None else len(hosts),
            owned_layer=self._settings.ray_address is None,
        )

    def done(self) -> None:
        """After Ray is shut down: the shutdown line (nothing if the server never served)."""
        if self._stopped is None or self._stopping is None:
            return  # a start-up failure says why on its own
        now = time.monotonic()
        print(shutdown_line(self._stopped, now - self._stopping, self._stopping - self._started), flush=True)
