"""Two `atelier serve` gateways on one Ray cluster, one Postgres, one Redis — for real.

Runs in the order written: editors split between the gateways converge; Redis goes
down and comes back; then one gateway is SIGKILLed and its editors reconnect, through
the one URL they know (a forwarder standing in for a load balancer), to the other.
The gateways are child processes that join a Ray head this module starts; the test
process itself never joins Ray, so the run-wide ``ray_cluster`` fixture is untouched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from ..deployment import Deployment, Typists, create_session, read_text, two_gateways
from ..forwarder import Forwarder
from ..harness import wait_until
from ..interop.npm import ensure_node_modules
from ..interop.peer import NodePeer

pytestmark = [pytest.mark.integration, pytest.mark.interop, pytest.mark.timeout(900)]

BUS_CHANNEL = "atelier:session-events"


@pytest.fixture(scope="module")
async def deployment(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    await asyncio.to_thread(ensure_node_modules)
    async with two_gateways(tmp_path_factory.mktemp("gateways"), pg_url) as running:
        yield running


def ws(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws"


async def rest(method: str, url: str, **kwargs: object) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, **kwargs) as response,  # type: ignore[arg-type]
    ):
        return response.status, await response.json(content_type=None)


def check_kept(typists: Typists, text: str, label: str) -> int:
    """Every token typed appears exactly once; returns how many acknowledged ones are missing."""
    missing = [t for t in typists.acked_tokens() if t not in text]
    doubled = [t for t in typists.tokens() if text.count(t) > 1]
    assert not doubled, f"{label}: tokens applied twice: {doubled[:5]}"
    return len(missing)


async def test_editors_split_between_two_gateways_converge(deployment: Deployment) -> None:
    a, b = deployment.gateways
    sid = await create_session(a.url)
    peers = [f"p{i}" for i in range(6)]
    async with NodePeer(timeout=60) as node:
        for i, peer in enumerate(peers):
            await node.connect(peer, ws((a, b)[i % 2].url), sid)
        for peer in peers:
            await node.wait_event(peer, "synced", timeout=60)
        typists = Typists(node, peers)
        started = time.monotonic()
        await typists.type(rounds=20, interval=0.02)
        await typists.settle()
        settled = time.monotonic() - started
        text = await typists.converged()
    # An agent's REST change on one gateway reaches the other gateway's readers.
    status, body = await rest(
        "POST",
        f"{b.url}/api/sessions/{sid}/ops",
        json={"ops": [{"op": "set_prop", "key": "root", "prop": "via", "value": "gw-b"}]},
    )
    assert status == 200, body
    status, state = await rest("GET", f"{a.url}/api/sessions/{sid}/state")
    assert status == 200, state
    assert state["spec"]["elements"]["root"]["props"]["via"] == "gw-b", state  # type: ignore[index]
    lost = check_kept(typists, text, "split")
    assert lost == 0
    assert sorted(typists.tokens()) == sorted(t for t in typists.tokens() if t in text)
    assert await read_text(a.url, sid) == text == await read_text(b.url, sid)
    acked = sum(typists.acked.values())
    print(
        f"\ntwo gateways: {len(peers)} providers split 3/3, {acked} edits acknowledged, {lost} lost,"
        f" all converged {settled:.2f} s after typing began"
    )


async def _numsub(url: str) -> int:
    client = aioredis.from_url(url)
    try:
        counts = await client.pubsub_numsub(BUS_CHANNEL)
        return int(counts[0][1])
    finally:
        await client.aclose()


async def test_redis_down_editing_and_rest_go_on_and_the_bus_recovers(deployment: Deployment) -> None:
    a, b = deployment.gateways
    redis = deployment.redis
    assert await _numsub(redis.url) == 2  # both gateways listen on the bus
    doomed = await create_session(a.url)
    redis.stop()
    down = time.monotonic()
    # What Redis carries today is one hint ("session deleted"); nothing below needs it.
    sid = await create_session(b.url)
    peers = ["r0", "r1", "r2", "r3"]
    async with NodePeer(timeout=60) as node:
        for i, peer in enumerate(peers):
            await node.connect(peer, ws((a, b)[i % 2].url), sid)
        for peer in peers:
            await node.wait_event(peer, "synced", timeout=60)
        typists = Typists(node, peers)
        await typists.type(rounds=15, interval=0.02)
        await typists.settle()
        text = await typists.converged()
    lost = check_kept(typists, text, "redis down")
    assert lost == 0
    assert await read_text(a.url, sid) == text
    status, body = await rest(
        "POST",
        f"{a.url}/api/sessions/{sid}/ops",
        json={"ops": [{"op": "set_prop", "key": "root", "prop": "during", "value": "outage"}]},
    )
    assert status == 200, body
    # A delete commits, answers 200 (its bus hint is dropped), and the other gateway,
    # not told, still answers 404: the session's host knows it is gone.
    status, body = await rest("DELETE", f"{a.url}/api/sessions/{doomed}")
    assert status == 200, body
    status, body = await rest("GET", f"{b.url}/api/sessions/{doomed}/state")
    assert status == 404, body
    outage = time.monotonic() - down

    redis.start()  # the same port, as a restarted service comes back
    back = time.monotonic()
    await wait_until(lambda: _numsub(redis.url), lambda n: n == 2, timeout=60, interval=0.1)
    resubscribed = time.monotonic() - back
    listener = aioredis.from_url(redis.url)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(BUS_CHANNEL)
        second = await create_session(b.url)
        status, body = await rest("DELETE", f"{b.url}/api/sessions/{second}")
        assert status == 200, body
        message = await wait_until(
            lambda: pubsub.get_message(timeout=0.5), lambda m: m is not None, timeout=30, interval=0.01
        )
        assert message is not None
        assert message["data"] == f"deleted:{second}".encode()
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await listener.aclose()
    acked = sum(typists.acked.values())
    print(
        f"\nredis down {outage:.1f} s with two gateways: {acked} edits acknowledged across both, {lost} lost,"
        " REST ops/create/delete answered;"
        f" both gateways re-subscribed {resubscribed:.2f} s after Redis returned"
    )


async def test_gateway_sigkill_clients_reconnect_to_the_other_and_nothing_acked_is_lost(
    deployment: Deployment,
) -> None:
    a, b = deployment.gateways
    sid = await create_session(b.url)
    peers = [f"k{i}" for i in range(6)]
    async with Forwarder([a.port, b.port]) as fwd, NodePeer(timeout=60) as node:
        home: dict[str, int] = {}
        for peer in peers:
            await node.connect(peer, f"ws://127.0.0.1:{fwd.port}/ws", sid)
            await node.wait_event(peer, "synced", timeout=60)
            home[peer] = fwd.routed[-1]
        victims = [p for p in peers if home[p] == a.port]
        assert victims, home
        assert len(victims) < len(peers), home  # split between the two gateways
        typists = Typists(node, peers)
        await typists.type(rounds=15, interval=0.05)
        mark = len(node.events)
        acked_at_kill = dict(typists.acked)
        a.kill()
        killed = time.monotonic()
        typing = asyncio.get_running_loop().create_task(typists.type(rounds=40, interval=0.05))
        reconnect: dict[str, float] = {}
        try:
            for peer in victims:
                await node.wait_event(peer, "synced", since=mark, timeout=60)
                reconnect[peer] = time.monotonic() - killed
        finally:
            await typing
        await typists.settle()
        text = await typists.converged()
    assert set(fwd.routed[len(peers) :]) == {b.port}  # every reconnect went to the live gateway
    lost_at_kill = len([t for t in typists.acked_tokens(acked_at_kill) if t not in text])
    lost = check_kept(typists, text, "sigkill")
    assert lost_at_kill == 0
    assert lost == 0
    assert all(t in text for t in typists.tokens())  # typed while cut off, resynced afterwards
    assert await read_text(b.url, sid) == text
    times = sorted(reconnect.values())
    print(
        f"\ngateway SIGKILL: {len(victims)} of {len(peers)} providers on it, {sum(acked_at_kill.values())}"
        f" edits acknowledged before the kill, {sum(typists.acked.values())} in all, {lost} lost;"
        f" reconnected and resynced via the other gateway in {times[0]:.2f}-{times[-1]:.2f} s"
    )
