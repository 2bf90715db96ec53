"""Actor-side fan-out queues and single-flight, by value."""

from __future__ import annotations

import asyncio

import pytest

from actors.fanout import CONTROL_CLOSED, CONTROL_OVERFLOW, CONTROL_READY, Fanout
from actors.singleflight import SingleFlight


async def test_events_arrive_in_order_in_bounded_batches() -> None:
    fanout = Fanout(limit=10)
    subscriber = fanout.subscribe("g", now=0)
    stream = subscriber.batches(max_batch=2, poll=0.01)
    assert await anext(stream) == [CONTROL_READY]
    events = [(0, 0, bytes([n]), n, "g") for n in range(5)]
    for event in events:
        fanout.to_gateway("g", event)
    fanout.to_gateway("other", events[0])  # not subscribed: dropped
    got = [await anext(stream) for _ in range(3)]
    assert got == [events[0:2], events[2:4], events[4:5]]
    fanout.unsubscribe("g")
    assert await anext(stream) == [CONTROL_CLOSED]
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_overflow_cuts_the_subscriber_off() -> None:
    fanout = Fanout(limit=3)
    subscriber = fanout.subscribe("g", now=0)
    stream = subscriber.batches(max_batch=10, poll=0.01)
    await anext(stream)
    for n in range(5):
        fanout.to_all((1, 0, b"x", n, None))
    assert await anext(stream) == [CONTROL_OVERFLOW]
    assert subscriber.closed


def test_leases_expire() -> None:
    fanout = Fanout(limit=3)
    fanout.subscribe("a", now=0)
    fanout.subscribe("b", now=0)
    assert fanout.renew("b", now=20)
    assert fanout.expire(now=25, lease=10) == ["a"]
    assert len(fanout) == 1 and not fanout.renew("a", now=26)


async def test_single_flight_shares_one_computation_and_its_failure() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0
    gate = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 42

    waiters = [asyncio.ensure_future(flight.run("k", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [42] * 5
    assert calls == 1 and len(flight) == 0

    async def boom() -> int:
        raise RuntimeError("nope")

    results = await asyncio.gather(flight.run("k", boom), flight.run("k", boom), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
