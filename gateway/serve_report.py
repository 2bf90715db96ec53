"""``atelier serve``'s start-up and shutdown lines, hooked into the app's lifecycle."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from actors.client import LayerStats
from actors.errors import SessionUnavailable

from .banner import Stopped, shutdown_line, startup_line
from .settings import Settings
from .state import SESSIONS, SOCKETS, SSE_STREAMS

__all__ = ["ServeReport"]

log = logging.getLogger(__name__)


class ServeReport:
    """The start-up line once the server listens; the shutdown line once everything stopped.

    Printed to stdout (not logged) so they show whatever the log level, one line each.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._hosts: int | None = None
        self._started = time.monotonic()
        self._stopping: float | None = None
        self._stopped: Stopped | None = None

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
        stats = await self._layer(app)
        self._hosts = None if stats is None or stats.hosts is None else len(stats.hosts)

    def listening(self, _message: str) -> None:
        """``run_app``'s ``print``, called once the sockets are bound: our line replaces its own."""
        self._started = time.monotonic()
        print(startup_line(self._settings, self._hosts), flush=True)

    async def _note(self, app: web.Application) -> None:
        self._stopping = time.monotonic()
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
