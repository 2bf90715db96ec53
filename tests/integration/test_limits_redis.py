"""Rate limits and Idempotency-Key outcomes shared by two gateways through a real Redis,
and what happens when Redis is unreachable (each gateway carries on in its own memory)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from actors.client import LocalSessionClient
from actors.settings import ActorSettings
from gateway.app import build_app
from gateway.limits.bucket import Rate
from gateway.limits.outcomes import MemoryOutcomes, Outcome, RedisOutcomes
from gateway.limits.settings import LimitSettings
from gateway.limits.store import MemoryRateStore, RedisRateStore
from gateway.settings import Settings
from storage.settings import StorageSettings

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}
Pair = tuple[TestClient[Any, Any], TestClient[Any, Any]]


@pytest.fixture
async def pair(redis_server: str, tmp_path: Path) -> AsyncIterator[Pair]:
    """Two gateways of one cluster (one namespace), each with a store of its own: whatever
    the second answers without running it can only have come through Redis."""
    namespace = f"limits-{uuid.uuid4().hex[:8]}"
    limits = replace(LimitSettings.unlimited(), ip_rate=0.01, ip_burst=5)
    clients = []
    async with AsyncExitStack() as stack:
        for name in ("a", "b"):
            actors = ActorSettings(namespace=namespace)
            storage = StorageSettings(data_dir=tmp_path / name, redis_url=redis_server)
            app = build_app(
                Settings(actors=actors, storage=storage, limits=limits), LocalSessionClient(actors, storage)
            )
            clients.append(await stack.enter_async_context(TestClient(TestServer(app))))
        yield clients[0], clients[1]


async def test_a_retry_through_another_gateway_gets_the_first_outcome(pair: Pair) -> None:
    a, b = pair
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await a.post("/api/sessions", json={"name": "once", "spec": SPEC}, headers=key)
    assert first.status == 201
    retry = await b.post("/api/sessions", json={"name": "once", "spec": SPEC}, headers=key)
    assert retry.status == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await retry.json() == await first.json()
    assert (await (await b.get("/api/sessions")).json())["sessions"] == []  # b never ran it
    changed = await b.post("/api/sessions", json={"name": "other", "spec": SPEC}, headers=key)
    assert changed.status == 422


async def test_request_rates_are_counted_across_gateways(pair: Pair) -> None:
    a, b = pair
    statuses = [(await client.get("/api/sessions")).status for client in (a, b, a, b, a)]
    assert statuses == [200] * 5  # five in all, the burst, whichever gateway served them
    refused = await b.get("/api/sessions")
    assert refused.status == 429
    assert refused.headers["Retry-After"]
    assert (await refused.json())["limit"]["setting"] == "ATELIER_RATE_IP_PER_SEC"
    assert (await a.get("/api/sessions")).status == 429


async def test_an_unreachable_redis_falls_back_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    rates = RedisRateStore(dead, "t:", MemoryRateStore(max_keys=10))
    outcomes = RedisOutcomes(dead, "t:", MemoryOutcomes(max_keys=10))
    await rates.open()
    await outcomes.open()
    try:
        with caplog.at_level(logging.WARNING):
            rate = Rate(0.01, 2)
            decisions = [(await rates.take("ip", "x", rate)).allowed for _ in range(3)]
            assert decisions == [True, True, False]  # still limited, by this gateway's memory
            assert await outcomes.claim("k", "fp", 60) is None
            assert await outcomes.claim("k", "fp", 60) == Outcome("fp")
            await outcomes.finish("k", Outcome("fp", False, 201, None, b"{}"), 60)
            assert await outcomes.claim("k", "fp", 60) == Outcome("fp", False, 201, None, b"{}")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert sum("rate limits fall back" in w for w in warnings) == 1  # once per outage
        assert sum("idempotency keys fall back" in w for w in warnings) == 1
    finally:
        await rates.close()
        await outcomes.close()
