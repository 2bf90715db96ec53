"""Builds the aiohttp application: middlewares, routes and lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from actors.client import ClusterSessionClient, SessionClient
from actors.errors import SessionUnavailable
from storage import StoreError, make_bus

from .auth import VERIFIER, Verifier, bridge_auth_middleware
from .cors import cors_middleware
from .http_errors import error_middleware
from .limits.idempotency import IDEMPOTENCY, Idempotency, idempotency_middleware
from .limits.limiter import LIMITER, Limiter, rate_limit_middleware
from .metrics import Metrics, metrics_middleware
from .openapi import add_openapi_routes
from .routes.bridge import routes as bridge_routes
from .routes.engine import routes as engine_routes
from .routes.plm import routes as plm_routes
from .routes.versions import routes as version_routes
from .routes.workspace import routes as workspace_routes
from .settings import Settings
from .sse import stop_streams
from .state import BUS, CHANNELS, METRICS, SESSIONS, SETTINGS, SOCKETS, SSE_STREAMS, WS_AUTH
from .web import setup_web
from .ws.auth import AllowAll, AuthPolicy, SharedSecret
from .ws.channel import ChannelRegistry
from .ws.handler import hocuspocus_endpoint, y_websocket_endpoint

SESSION_EVENTS = "session-events"

__all__ = ["build_app"]

log = logging.getLogger(__name__)


def build_app(settings: Settings, sessions: SessionClient | None = None) -> web.Application:
    """The gateway app. With the default (cluster) client, Ray must already be initialised."""
    metrics = Metrics()
    settings = settings.completed({})
    assert settings.auth is not None  # completed
    auth = settings.auth
    app = web.Application(
        middlewares=[
            cors_middleware(settings.cors_origin),
            metrics_middleware(metrics),
            rate_limit_middleware(),
            idempotency_middleware(),
            error_middleware,
            bridge_auth_middleware(auth.bridge_auth),
        ],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[SESSIONS] = sessions or ClusterSessionClient(
        settings.actors,
        settings.storage,
        stream_queue_limit=settings.ws_stream_queue_batches,
        shutdown_on_stop=settings.ray_address is None,
    )
    policy: AuthPolicy = SharedSecret(settings.ws_secret) if settings.ws_secret else AllowAll()
    app[WS_AUTH] = policy
    app[BUS] = make_bus(settings.storage)
    app[CHANNELS] = ChannelRegistry(
        app[SESSIONS],
        max_batch=settings.ws_batch_max_frames,
        start_timeout=settings.ws_subscribe_timeout,
        metrics=metrics,
    )
    app[SOCKETS] = set()
    app[SSE_STREAMS] = set()
    app[VERIFIER] = Verifier(auth)
    # Limits and remembered outcomes are shared by the gateways of one cluster (namespace).
    shared_prefix = f"atelier:{settings.actors.namespace}:"
    app[LIMITER] = Limiter(
        settings.limits, redis_url=settings.storage.redis_url, prefix=shared_prefix + "rate:"
    )
    app[IDEMPOTENCY] = Idempotency(
        settings.limits,
        redis_url=settings.storage.redis_url,
        prefix=shared_prefix + "idem:",
        body_cap=max(settings.max_body_bytes, settings.actors.workspace.upload_max_bytes + 65536),
    )
    app.add_routes(bridge_routes)
    app.add_routes(version_routes)
    app.add_routes(plm_routes)
    app.add_routes(engine_routes)
    app.add_routes(workspace_routes)
    setup_web(app)  # the pages (design workspace, Bridge preview, workspace chat)
    metrics.layer.bind(
        lambda: app[SESSIONS].stats(settings.metrics_timeout),
        lambda: {"sse": len(app[SSE_STREAMS]), "ws": len(app[SOCKETS])},
    )
    metrics.bind_ready(lambda: app[SESSIONS].warmth())
    app.router.add_get("/metrics", metrics.handle)
    add_openapi_routes(app, bridge_auth=auth.bridge_auth)
    app.router.add_get("/ws", hocuspocus_endpoint)
    app.router.add_get("/ws/{session_id}", y_websocket_endpoint)

    def on_session_event(channel: str, message: bytes) -> None:
        kind, _, session_id = message.decode().partition(":")
        if kind == "deleted":
            # Another gateway (or this one) deleted it: drop what we know of its placement.
            app[SESSIONS].forget(session_id)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        kind = await app[SESSIONS].start()
        await app[BUS].open()
        await app[LIMITER].open()
        await app[IDEMPOTENCY].open()
        subscription = await app[BUS].subscribe(SESSION_EVENTS, on_session_event)
        log.info("gateway ready store=%s placement=%s", kind, settings.actors.placement.value)
        sweeper = asyncio.get_running_loop().create_task(sweep(app), name="indexing-sweeper")
        yield
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await app[CHANNELS].close_all()
        await subscription.close()
        await app[IDEMPOTENCY].close()
        await app[LIMITER].close()
        await app[BUS].close()
        await app[SESSIONS].stop()

    async def sweep(app: web.Application) -> None:
        """Files whose indexing died are failed, never left INDEXING forever."""
        while True:
            await asyncio.sleep(settings.actors.workspace.sweep_interval)
            try:
                failed = await app[SESSIONS].workspace.sweep()
            except (SessionUnavailable, StoreError) as exc:
                log.warning("indexing sweep skipped: %s", exc)
                continue
            if failed:
                log.info("indexing sweep failed %d stale files", failed)

    async def close_sockets(app: web.Application) -> None:
        # Clients reconnect elsewhere (or later) and resync: nothing acknowledged is lost.
        sockets = app[SOCKETS]
        for ws in list(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    async def close_streams(app: web.Application) -> None:
        await stop_streams(app[SSE_STREAMS])

    app.on_shutdown.append(close_sockets)
    app.on_shutdown.append(close_streams)
    app.cleanup_ctx.append(lifecycle)
    return app
