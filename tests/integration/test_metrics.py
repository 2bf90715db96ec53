"""/metrics of a real gateway (real Ray hosts, real store owner) after real activity."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from actors.llm.settings import LlmSettings

from ..engine_api import create_session
from ..harness import Gateway, MakeGateway, bearer, wait_until
from ..hocus_client import HocusClient
from ..sse import read_events

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}}}}


async def scrape(gw: Gateway) -> tuple[str, Samples]:
    assert gw.http is not None
    async with gw.http.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def one(samples: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, (
        f"{name}{labels} missing; have {sorted(n for n, _ in samples if n.startswith(name))}"
    )
    return samples[key]


async def test_bridge_activity_shows_in_metrics(gateway: Gateway) -> None:
    store = gateway.settings.storage.store_kind
    session_id = await gateway.create(spec=SPEC)
    for i in range(3):
        status, body = await gateway.request(
            "POST",
            f"/api/sessions/{session_id}/ops",
            json={"ops": [{"op": "set_prop", "key": "root", "prop": "n", "value": i}]},
        )
        assert status == 200, body
        assert body["errors"] == [], body
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        await client.open(session_id)
        text, samples = await scrape(gateway)
        assert one(samples, "atelier_streams_open", kind="ws") >= 1

    assert "_created" not in text
    assert one(samples, "atelier_session_layer_up", part="store") == 1
    assert one(samples, "atelier_session_layer_up", part="hosts") == 1
    # Commit latency: 3 acknowledged ops were each committed before their 200.
    count = one(samples, "atelier_store_commit_seconds_count", store=store)
    assert count >= 3
    assert 0 < one(samples, "atelier_store_commit_seconds_sum", store=store) < count * 10
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in samples.items()
        if name == "atelier_store_commit_seconds_bucket" and dict(labels)["store"] == store
    )
    assert buckets[-1] == (float("inf"), count)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(buckets))
    assert 1 <= one(samples, "atelier_store_commits_total", store=store) <= count
    assert one(samples, "atelier_store_committed_rows_total", store=store) >= 3
    assert one(samples, "atelier_store_commit_queue_rows", store=store) >= 0
    # The session is live in a host; the hosts and their queues answered.
    assert one(samples, "atelier_live_sessions", api="bridge") >= 1
    assert one(samples, "atelier_hosts") >= 1
    assert one(samples, "atelier_hosts_unresponsive") == 0
    for process in ("gateway", "hosts", "store"):
        assert one(samples, "atelier_link_queue_messages", process=process) >= 0
    assert one(samples, "atelier_stream_queue_batches") >= 0
    assert one(samples, "atelier_runs_in_flight", api="design") >= 0
    assert one(samples, "atelier_runs_in_flight", api="workspace") >= 0
    assert one(samples, "atelier_streams_open", kind="sse") >= 0
    # The gateway's own counters are still there.
    assert (
        one(
            samples,
            "atelier_http_requests_total",
            method="POST",
            route="/api/sessions/{id}/ops",
            status="200",
        )
        >= 3
    )


async def test_a_running_stage_is_a_run_in_flight_and_an_open_stream(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(llm=LlmSettings(offline_delay=0.05))
    assert gw.http is not None
    sid = await create_session(gw, "ada", "A weighted desk lamp")
    async with gw.http.post(
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "start_requirements"},
    ) as response:
        assert response.status == 200
        events = read_events(response)
        await anext(events)  # the run is under way and this SSE stream is open
        _, samples = await scrape(gw)
        assert one(samples, "atelier_streams_open", kind="sse") == 1
        assert one(samples, "atelier_runs_in_flight", api="design") == 1
        assert one(samples, "atelier_live_sessions", api="design") == 1
        async for event in events:
            if event.event == "done":
                break

    async def after() -> Samples:
        return (await scrape(gw))[1]

    # The run ended and the stream closed: both gauges come back to 0.
    await wait_until(
        after,
        lambda s: (
            one(s, "atelier_streams_open", kind="sse") == 0
            and one(s, "atelier_runs_in_flight", api="design") == 0
        ),
        timeout=60,
    )
