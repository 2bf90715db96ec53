"""The session layer's /metrics families from a given snapshot (gateway.layer_metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from actors.client import HostStats, LayerStats, StoreStats
from gateway.layer_metrics import LayerCollector
from gateway.metrics import Metrics
from storage.latency import LatencyHistogram


def _stats(*, store: bool = True, hosts: bool = True) -> LayerStats:
    latency = LatencyHistogram((0.001, 0.01))
    for seconds in (0.0004, 0.002, 0.02):
        latency.observe(seconds)
    return LayerStats(
        store=StoreStats("postgres", 3, 40, 5, 2, latency.snapshot()) if store else None,
        hosts=(
            HostStats("h1", {"bridge": 2, "design": 1, "workspace": 0}, {"design": 1, "workspace": 0}, 4, 7),
            HostStats("h2", {"bridge": 1, "design": 0, "workspace": 3}, {"design": 0, "workspace": 2}, 0, 0),
        )
        if hosts
        else None,
        link_queue=6,
        stream_queue=9,
        unanswered_hosts=1,
    )


def _scrape(stats: LayerStats | None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    collector = LayerCollector()
    collector.latest = stats
    collector.bind(_fail, lambda: {"ws": 2, "sse": 1})
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _fail() -> LayerStats:
    raise AssertionError("not refreshed in these tests")


def test_every_family_from_a_full_snapshot() -> None:
    got = _scrape(_stats())
    assert got[("atelier_store_commit_seconds_bucket", (("le", "0.001"), ("store", "postgres")))] == 1
    assert got[("atelier_store_commit_seconds_bucket", (("le", "0.01"), ("store", "postgres")))] == 2
    assert got[("atelier_store_commit_seconds_bucket", (("le", "+Inf"), ("store", "postgres")))] == 3
    assert got[("atelier_store_commit_seconds_count", (("store", "postgres"),))] == 3
    assert abs(got[("atelier_store_commit_seconds_sum", (("store", "postgres"),))] - 0.0224) < 1e-9
    assert got[("atelier_store_commits_total", (("store", "postgres"),))] == 3
    assert got[("atelier_store_committed_rows_total", (("store", "postgres"),))] == 40
    assert got[("atelier_store_commit_queue_rows", (("store", "postgres"),))] == 5
    assert got[("atelier_link_queue_messages", (("process", "gateway"),))] == 6
    assert got[("atelier_link_queue_messages", (("process", "hosts"),))] == 4
    assert got[("atelier_link_queue_messages", (("process", "store"),))] == 2
    assert got[("atelier_stream_queue_batches", ())] == 9
    assert got[("atelier_live_sessions", (("api", "bridge"),))] == 3
    assert got[("atelier_live_sessions", (("api", "design"),))] == 1
    assert got[("atelier_live_sessions", (("api", "workspace"),))] == 3
    assert got[("atelier_runs_in_flight", (("api", "design"),))] == 1
    assert got[("atelier_runs_in_flight", (("api", "workspace"),))] == 2
    assert got[("atelier_hosts", ())] == 2
    assert got[("atelier_hosts_unresponsive", ())] == 1
    assert got[("atelier_unflushed_updates", ())] == 7
    assert got[("atelier_streams_open", (("kind", "sse"),))] == 1
    assert got[("atelier_streams_open", (("kind", "ws"),))] == 2
    assert got[("atelier_session_layer_up", (("part", "store"),))] == 1
    assert got[("atelier_session_layer_up", (("part", "hosts"),))] == 1


def test_a_part_that_did_not_answer_has_no_series() -> None:
    got = _scrape(_stats(store=False, hosts=False))
    names = {name for name, _ in got}
    assert got[("atelier_session_layer_up", (("part", "store"),))] == 0
    assert got[("atelier_session_layer_up", (("part", "hosts"),))] == 0
    assert not any(
        name.startswith(("atelier_store_", "atelier_live_", "atelier_hosts", "atelier_runs"))
        for name in names
    )
    assert got[("atelier_link_queue_messages", (("process", "gateway"),))] == 6


def test_before_the_first_refresh_only_streams() -> None:
    got = _scrape(None)
    assert {name for name, _ in got} == {"atelier_streams_open"}


def test_no_created_series() -> None:
    metrics = Metrics()
    metrics.requests.labels("GET", "/x", "200").inc()
    metrics.latency.labels("GET", "/x").observe(0.1)
    other = Counter("atelier_probe_total", "a counter made after Metrics()", registry=metrics.registry)
    other.inc()
    text = generate_latest(metrics.registry).decode()
    assert "atelier_http_requests_total" in text
    assert "atelier_probe_total 1.0" in text
    assert "_created" not in text
