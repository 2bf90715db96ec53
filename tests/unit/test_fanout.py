"""Host-side fan-out to peers and single-flight, by value."""

from __future__ import annotations

import asyncio

from actors.core.events import Delivery, StreamEnd
from actors.core.fanout import Fanout
from actors.core.sync import Scope
from actors.singleflight import SingleFlight


class _Peer:
    def __init__(self, peer_id: int) -> None:
        self.peer_id = peer_id
        self.got: list[list[Delivery]] = []
        self.ended: list[StreamEnd] = []

    def deliver(self, session_id: str, events: list[Delivery]) -> None:
        assert session_id == "s"
        self.got.append(events)

    def end(self, session_id: str, reason: StreamEnd) -> None:
        self.ended.append(reason)


def test_the_origin_gateway_skips_its_own_connection_others_get_everything() -> None:
    fanout = Fanout("s")
    origin, other = _Peer(1), _Peer(2)
    fanout.add(origin)
    fanout.add(other)
    update = Delivery(Scope.TO_OTHERS, 0, b"u", 7)
    echo = Delivery(Scope.TO_ALL, 1, b"a", 7)
    fanout.to_all([update, echo], origin=origin)
    assert origin.got == [[update, echo]]
    # Connection 7 of another gateway is not connection 7 here.
    assert other.got == [[update._replace(conn=-1), echo]]


def test_direct_events_go_to_one_subscribed_peer_only() -> None:
    fanout = Fanout("s")
    peer, stranger = _Peer(1), _Peer(2)
    fanout.add(peer)
    reply = Delivery(Scope.TO_CONN, 8, b"\x01", 3)
    fanout.to_peer(peer, [reply])
    fanout.to_peer(stranger, [reply])
    fanout.to_peer(peer, [])
    assert peer.got == [[reply]]
    assert stranger.got == []
    assert peer in fanout
    assert stranger not in fanout


def test_end_all_tells_every_peer_why_and_forgets_them() -> None:
    fanout = Fanout("s")
    a, b = _Peer(1), _Peer(2)
    fanout.add(a)
    fanout.add(b)
    assert fanout.remove(b)
    assert not fanout.remove(b)
    fanout.end_all(StreamEnd.DELETED)
    assert a.ended == [StreamEnd.DELETED]
    assert b.ended == []
    assert len(fanout) == 0


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
    assert calls == 1
    assert len(flight) == 0

    async def boom() -> int:
        raise RuntimeError("nope")

    results = await asyncio.gather(flight.run("k", boom), flight.run("k", boom), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_single_flight_survives_its_first_caller_being_cancelled() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    gate = asyncio.Event()

    async def compute() -> int:
        await gate.wait()
        return 7

    first = asyncio.ensure_future(flight.run("k", compute))
    second = asyncio.ensure_future(flight.run("k", compute))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    gate.set()
    assert await asyncio.wait_for(second, 5) == 7
    assert first.cancelled()
