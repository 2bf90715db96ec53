"""Acknowledged means durable: killed actors, idle exits and snapshots lose nothing."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
import ray

from ..harness import Gateway, MakeGateway, wait_until

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {
    "root": "root",
    "elements": {"root": {"type": "Card", "props": {}, "children": []}},
}


async def _apply(gw: Gateway, session_id: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    status, body = await gw.request("POST", f"/api/sessions/{session_id}/ops", json={"ops": ops})
    assert status == 200, body
    assert body["errors"] == [], body
    return dict(body)


async def _state(gw: Gateway, session_id: str) -> dict[str, Any]:
    status, body = await gw.request("GET", f"/api/sessions/{session_id}/state")
    assert status == 200, body
    return dict(body)


async def _placed(gw: Gateway) -> int:
    """Sessions the placement directory holds as live in some host."""
    hosts = await gw.placement().hosts.remote()
    return sum(host["sessions"] for host in hosts)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _host_pid(gw: Gateway, session_id: str) -> int:
    return await gw.host_pid(session_id)


@pytest.mark.parametrize("how", ["sigkill", "ray.kill"])
async def test_killed_actor_loses_no_acknowledged_change(make_gateway: MakeGateway, how: str) -> None:
    gw = await make_gateway()
    session_id = await gw.create(spec=SPEC)
    for i in range(20):
        await _apply(
            gw,
            session_id,
            [
                {
                    "op": "add_element",
                    "key": f"e{i}",
                    "parentKey": "root",
                    "element": {"type": "Text", "props": {"n": i}},
                },
                {"op": "set_prop", "key": "root", "prop": "count", "value": i},
            ],
        )
    before = await _state(gw, session_id)
    assert before["meta"]["revision"] == 20

    pid = await _host_pid(gw, session_id)
    if how == "sigkill":
        os.kill(pid, signal.SIGKILL)
    else:
        handle = await gw.placement().host_handle.remote(session_id)
        ray.kill(handle, no_restart=True)
    await wait_until(lambda: _process_alive(pid), lambda up: not up, timeout=30)

    after = await wait_until(
        lambda: gw.request("GET", f"/api/sessions/{session_id}/state"), lambda r: r[0] == 200, timeout=60
    )
    assert after[1] == before
    assert await _host_pid(gw, session_id) != pid
    # And the session keeps working where it left off.
    body = await _apply(gw, session_id, [{"op": "set_prop", "key": "root", "prop": "count", "value": 99}])
    assert body["revision"] == 21


@pytest.mark.parametrize("placement", ["dense", "isolated"])
async def test_idle_session_checkpoints_unloads_and_reactivates(
    make_gateway: MakeGateway, placement: str
) -> None:
    gw = await make_gateway(idle_timeout=1.0, idle_check_interval=0.2, exit_grace=0.2, placement=placement)
    session_id = await gw.create(spec=SPEC)
    await _apply(gw, session_id, [{"op": "set_prop", "key": "root", "prop": "title", "value": "kept"}])
    before = await _state(gw, session_id)
    pid = await _host_pid(gw, session_id)
    assert await _placed(gw) == 1

    await wait_until(lambda: _placed(gw), lambda n: n == 0, timeout=30)
    if placement == "isolated":
        # An isolated host lives for its one session.
        await wait_until(lambda: _process_alive(pid), lambda up: not up, timeout=30)
    # The unload wrote a snapshot: the log behind it is compacted away.
    loaded = await gw.load(session_id)
    assert loaded is not None
    assert loaded.snapshot is not None
    assert loaded.updates == []

    # Concurrent first uses after the exit coalesce into one activation.
    pids = await asyncio.gather(*(_host_pid(gw, session_id) for _ in range(20)))
    assert len(set(pids)) == 1
    assert await _state(gw, session_id) == before


async def test_snapshots_compact_the_log(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(snapshot_every_updates=5)
    session_id = await gw.create(spec=SPEC)
    for i in range(12):
        await _apply(gw, session_id, [{"op": "set_prop", "key": "root", "prop": "n", "value": i}])

    async def log_rows() -> tuple[int, int]:
        loaded = await gw.load(session_id)
        assert loaded is not None
        return loaded.snapshot_seq, len(loaded.updates)

    _snapshot_seq, rows = await wait_until(log_rows, lambda r: r[0] >= 10)
    assert rows < 5
    before = await _state(gw, session_id)
    os.kill(await _host_pid(gw, session_id), signal.SIGKILL)
    after = await wait_until(
        lambda: gw.request("GET", f"/api/sessions/{session_id}/state"), lambda r: r[0] == 200, timeout=60
    )
    assert after[1] == before
    assert after[1]["spec"]["elements"]["root"]["props"]["n"] == 11


async def test_dense_placement_shares_hosts(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(hosts=2)
    ids = [await gw.create(spec=SPEC) for _ in range(6)]
    for n, session_id in enumerate(ids):
        await _apply(gw, session_id, [{"op": "set_prop", "key": "root", "prop": "n", "value": n}])
    pids = {await _host_pid(gw, session_id) for session_id in ids}
    assert len(pids) <= 2
    for n, session_id in enumerate(ids):
        state = await _state(gw, session_id)
        assert state["spec"]["elements"]["root"]["props"]["n"] == n
    # Killing one host loses nothing of the sessions it held.
    victim = await _host_pid(gw, ids[0])
    os.kill(victim, signal.SIGKILL)
    for n, session_id in enumerate(ids):
        _, state = await wait_until(
            lambda sid=session_id: gw.request("GET", f"/api/sessions/{sid}/state"),
            lambda r: r[0] == 200,
            timeout=60,
        )
        assert state["spec"]["elements"]["root"]["props"]["n"] == n


async def test_a_store_backlog_refuses_new_changes(make_gateway: MakeGateway) -> None:
    from ..hocus_client import HocusClient

    # A limit of zero unflushed rows: the store is always "behind", so every edit is refused.
    gw = await make_gateway(max_unflushed_rows=0)
    session_id = await gw.create(spec=SPEC)
    status, body = await gw.request(
        "POST",
        f"/api/sessions/{session_id}/ops",
        json={"ops": [{"op": "set_prop", "key": "root", "prop": "n", "value": 1}]},
    )
    assert status == 503
    assert "retry" in body["error"]
    async with HocusClient(f"{gw.ws_url}/ws") as client:
        await client.open(session_id)
        await client.insert(session_id, "held back")
        assert (await client.wait_statuses(session_id, 2))[-1] == 0
    state = await _state(gw, session_id)
    assert state["meta"]["revision"] == 0
    assert "n" not in state["spec"]["elements"]["root"]["props"]
