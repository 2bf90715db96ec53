"""The session layer's side of ``/metrics``: asked at scrape time, exposed as Prometheus series.

The gateway's own counters live in ``metrics.Metrics``; what the store owner and the hosts
know (commit latency, queues, live sessions, runs) is pulled through the session client at
each scrape, bounded by ``ATELIER_METRICS_TIMEOUT``, and turned into metric families here.
A part that did not answer in time has no series in that scrape and
``atelier_session_layer_up{part=...} 0``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.client import LayerStats

__all__ = ["LayerCollector"]

LayerSource = Callable[[], Awaitable[LayerStats]]
StreamCounts = Callable[[], Mapping[str, int]]

_APIS = ("bridge", "design", "workspace")
_RUN_APIS = ("design", "workspace")


def _le(bound: float) -> str:
    """A bucket bound as prometheus-client prints its own (``0.005``, ``1.0``, ``10.0``)."""
    return repr(float(bound))


def _gauge(name: str, doc: str, value: float, labels: Mapping[str, str] | None = None) -> GaugeMetricFamily:
    if labels is None:
        return GaugeMetricFamily(name, doc, value=value)
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


class LayerCollector(Collector):
    """Holds the last snapshot; ``refresh`` takes a new one before each scrape."""

    def __init__(self) -> None:
        self._source: LayerSource | None = None
        self._streams: StreamCounts | None = None
        self.latest: LayerStats | None = None

    def bind(self, source: LayerSource, streams: StreamCounts) -> None:
        """``source``: the session client's stats; ``streams``: open streams by kind (sse, ws)."""
        self._source = source
        self._streams = streams

    async def refresh(self) -> None:
        if self._source is not None:
            self.latest = await self._source()

    def describe(self) -> list[Metric]:
        # Nothing to pre-register: the families depend on what answered.
        return []

    def collect(self) -> Iterator[Metric]:
        if self._streams is not None:
            streams = GaugeMetricFamily(
                "atelier_streams_open",
                "Open client streams on this gateway by kind (sse, ws)",
                labels=["kind"],
            )
            for kind, count in sorted(self._streams().items()):
                streams.add_metric([kind], count)
            yield streams
        stats = self.latest
        if stats is None:
            return
        yield from self._gateway(stats)
        yield from self._store(stats)
        yield from self._hosts(stats)

    def _gateway(self, stats: LayerStats) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "atelier_session_layer_up",
            "Whether the part answered this scrape within ATELIER_METRICS_TIMEOUT (1) or not (0)",
            labels=["part"],
        )
        up.add_metric(["store"], 0 if stats.store is None else 1)
        up.add_metric(["hosts"], 0 if stats.hosts is None else 1)
        yield up
        yield _gauge(
            "atelier_stream_queue_batches",
            "Event batches waiting in this gateway's per-session stream queues",
            stats.stream_queue,
        )

    def _store(self, stats: LayerStats) -> Iterator[Metric]:
        store = stats.store
        links = GaugeMetricFamily(
            "atelier_link_queue_messages",
            "Messages queued on data-plane links, by the process that sends them",
            labels=["process"],
        )
        links.add_metric(["gateway"], stats.link_queue)
        if stats.hosts is not None:
            links.add_metric(["hosts"], sum(host.link_queue for host in stats.hosts))
        if store is not None:
            links.add_metric(["store"], store.link_queue)
        yield links
        if store is None:
            return
        labels = {"store": store.kind}
        latency = HistogramMetricFamily(
            "atelier_store_commit_seconds",
            "Duration of the store owner's group-commit transactions",
            labels=["store"],
        )
        commit = store.commit
        buckets = [
            (_le(bound), float(count)) for bound, count in zip(commit.bounds, commit.cumulative, strict=True)
        ]
        buckets.append(("+Inf", float(commit.count)))
        latency.add_metric([store.kind], buckets, sum_value=commit.total)
        yield latency
        commits = CounterMetricFamily(
            "atelier_store_commits",
            "Group-commit transactions since the store owner started",
            labels=["store"],
        )
        commits.add_metric([store.kind], store.transactions)
        yield commits
        rows = CounterMetricFamily(
            "atelier_store_committed_rows",
            "Update rows committed since the store owner started",
            labels=["store"],
        )
        rows.add_metric([store.kind], store.rows)
        yield rows
        yield _gauge(
            "atelier_store_commit_queue_rows",
            "Update rows waiting for the next group commit",
            store.queued_rows,
            labels,
        )

    def _hosts(self, stats: LayerStats) -> Iterator[Metric]:
        hosts = stats.hosts
        if hosts is None:
            return
        yield _gauge("atelier_hosts", "Session host processes that answered this scrape", len(hosts))
        yield _gauge(
            "atelier_hosts_unresponsive",
            "Session hosts the directory knows that did not answer within ATELIER_METRICS_TIMEOUT",
            stats.unanswered_hosts,
        )
        live = GaugeMetricFamily(
            "atelier_live_sessions", "Sessions live in the hosts, by API", labels=["api"]
        )
        for api in _APIS:
            live.add_metric([api], sum(host.live.get(api, 0) for host in hosts))
        yield live
        runs = GaugeMetricFamily(
            "atelier_runs_in_flight", "Design stage runs and workspace runs under way, by API", labels=["api"]
        )
        for api in _RUN_APIS:
            runs.add_metric([api], sum(host.runs.get(api, 0) for host in hosts))
        yield runs
        yield _gauge(
            "atelier_unflushed_updates",
            "Bridge updates applied in the hosts and not yet committed",
            sum(host.unflushed for host in hosts),
        )
        yield _gauge(
            "atelier_webhook_queue",
            "Webhook events waiting for delivery in the hosts' bounded queues",
            sum(host.webhooks.get("queued", 0) for host in hosts),
        )
        for outcome in ("delivered", "failed", "dropped"):
            webhooks = CounterMetricFamily(
                f"atelier_webhook_{outcome}", f"Webhook events {outcome} since the hosts started"
            )
            webhooks.add_metric([], sum(host.webhooks.get(outcome, 0) for host in hosts))
            yield webhooks
