"""The gateway bus: in-process and Redis deliver the same way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from storage import Bus, InProcessBus
from storage.redis_bus import RedisBus


@pytest.fixture(params=["memory", "redis"])
async def bus_pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    if request.param == "memory":
        shared = InProcessBus()
        yield shared, shared
        return
    url = request.getfixturevalue("redis_server")
    a, b = RedisBus(url), RedisBus(url)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_publish_reaches_every_subscriber(bus_pair: tuple[Bus, Bus]) -> None:
    publisher, subscriber = bus_pair
    channel = f"test-{uuid.uuid4().hex[:8]}"
    got: asyncio.Queue[bytes] = asyncio.Queue()
    sub = await subscriber.subscribe(channel, lambda _c, data: got.put_nowait(bytes(data)))
    await publisher.publish(channel, b"session-deleted:x")
    assert await asyncio.wait_for(got.get(), 10) == b"session-deleted:x"
    await sub.close()
    await publisher.publish(channel, b"after close")
    await asyncio.sleep(0.2)  # nothing must arrive; a bounded look, not a wait-for
    assert got.empty()
