"""/metrics over the in-process session client: the same families, no cluster."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .local import ClientFactory, local_app


async def test_local_layer_metrics(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(local_app(tmp_path))
    response = await client.post(
        "/api/sessions", json={"spec": {"root": "r", "elements": {"r": {"type": "T", "props": {}}}}}
    )
    assert response.status == 201
    sid = (await response.json())["session"]["id"]
    for value in range(2):
        response = await client.post(
            f"/api/sessions/{sid}/ops",
            json={"ops": [{"op": "set_prop", "key": "r", "prop": "v", "value": value}]},
        )
        assert response.status == 200
    text = await (await client.get("/metrics")).text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert "_created" not in text
    assert samples[("atelier_store_commit_seconds_count", (("store", "sqlite"),))] >= 2
    assert samples[("atelier_store_commits_total", (("store", "sqlite"),))] >= 2
    assert samples[("atelier_live_sessions", (("api", "bridge"),))] == 1
    assert samples[("atelier_hosts", ())] == 1
    assert samples[("atelier_streams_open", (("kind", "ws"),))] == 0
    assert samples[("atelier_session_layer_up", (("part", "store"),))] == 1
