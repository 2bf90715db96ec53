"""Prometheus metrics of the gateway, served at /metrics."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from actors.client import Warmth

from .layer_metrics import LayerCollector

__all__ = ["Metrics", "SocketCounts", "metrics_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SocketCounts(Collector):
    """Per-frame WebSocket counts kept as plain numbers and read at each scrape.

    They change several times per delivered edit; a prometheus-client metric takes a lock
    and a label lookup each time, these are an addition.
    """

    def __init__(self) -> None:
        self.frames_in: Tally[str] = Tally()  # by message type name
        self.frames_out = 0
        self.queued_bytes = 0

    def sent(self, frames: int) -> None:
        self.frames_out += frames

    def queued(self, delta: int) -> None:
        self.queued_bytes += delta

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        frames_in = CounterMetricFamily("atelier_ws_frames_in", "Frames received by type", labels=["type"])
        for kind, count in sorted(self.frames_in.items()):
            frames_in.add_metric([kind], count)
        yield frames_in
        yield CounterMetricFamily("atelier_ws_frames_out", "Frames sent", value=self.frames_out)
        yield GaugeMetricFamily(
            "atelier_ws_outbound_queue_bytes",
            "Bytes waiting in the WebSockets' outbound queues",
            value=self.queued_bytes,
        )


class Metrics:
    """One registry per app, so several gateways in one test process do not collide."""

    def __init__(self) -> None:
        # A `_created` series per counter and histogram doubles the output and no dashboard
        # reads it (process-wide in prometheus-client; nothing here wants it).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        # The session layer's counters, pulled through the session client at each scrape.
        self.layer = LayerCollector()
        self.registry.register(self.layer)
        self.requests = Counter(
            "atelier_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "atelier_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
        )
        self.ws_connections = Gauge(
            "atelier_ws_connections", "Open WebSocket connections", registry=self.registry
        )
        self.sockets = SocketCounts()
        self.registry.register(self.sockets)
        self.ws_refusals = Counter(
            "atelier_ws_refusals_total",
            "Refused frames/documents by reason",
            ["reason"],
            registry=self.registry,
        )
        self.ws_slow_closes = Counter(
            "atelier_ws_slow_consumer_closes_total",
            "Sockets closed because their outbound queue overflowed",
            registry=self.registry,
        )
        self.ws_aborts = Counter(
            "atelier_ws_aborted_total",
            "Sockets aborted because the peer did not complete the close within ATELIER_WS_CLOSE_TIMEOUT",
            registry=self.registry,
        )
        self.actor_calls = Histogram(
            "atelier_actor_batch_seconds",
            "Latency of batched frame calls to session actors",
            registry=self.registry,
        )
        self.batch_frames = Histogram(
            "atelier_actor_batch_frames",
            "Frames per batched actor call",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.live_channels = Gauge(
            "atelier_live_session_channels", "Sessions with local subscribers", registry=self.registry
        )
        self.ready = Gauge(
            "atelier_ready",
            "1 once the session layer's warm-up (hosts, store owner, run workers, CAD worker) ended well",
            registry=self.registry,
        )

    def bind_ready(self, warmth: Callable[[], Warmth | None]) -> None:
        """Read at each scrape: 0 while the warm-up runs or after it failed."""

        def value() -> float:
            state = warmth()
            return 1.0 if state is not None and state.ready else 0.0

        self.ready.set_function(value)

    async def handle(self, request: web.Request) -> web.Response:
        await self.layer.refresh()
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.requests.labels(request.method, name, str(status)).inc()
            metrics.latency.labels(request.method, name).observe(time.perf_counter() - start)

    return middleware
