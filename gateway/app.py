"""Builds the aiohttp application: middlewares, routes and lifecycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from actors.directory import SessionDirectory

from .cors import cors_middleware
from .http_errors import error_middleware
from .metrics import Metrics, metrics_middleware
from .routes.bridge import routes as bridge_routes
from .settings import Settings
from .state import DIRECTORY, METRICS, SETTINGS

__all__ = ["build_app"]

log = logging.getLogger(__name__)


def build_app(settings: Settings, directory: SessionDirectory | None = None) -> web.Application:
    """The gateway app. Ray must already be initialised by the caller."""
    metrics = Metrics()
    app = web.Application(
        middlewares=[
            cors_middleware(settings.cors_origin),
            metrics_middleware(metrics),
            error_middleware,
        ],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[DIRECTORY] = directory or SessionDirectory(settings.actors, settings.storage)
    app.add_routes(bridge_routes)
    app.router.add_get("/metrics", metrics.handle)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        kind = await app[DIRECTORY].start()
        log.info("gateway ready store=%s placement=%s", kind, settings.actors.placement)
        yield

    app.cleanup_ctx.append(lifecycle)
    return app
