"""A three-node Ray cluster on this machine, one gateway, sessions on every node.

Run as ``python -m tests.multinode_driver <work dir> [database url]`` by
tests/integration/test_multinode.py: a process of its own, so its Ray connection never
meets the test run's. ``ray.cluster_utils.Cluster`` starts three Ray nodes on 127.0.0.1
(each its own raylet, as separate machines would have); the driver joins the head and
runs an in-process gateway over the real cluster client. The checks raise on failure;
the last stdout line is a JSON summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, NoReturn

import psutil

# actors.runtime.RAY_ENV, set before anything imports ray: Ray reads it at import time
# (with the cluster flag unset it swaps 127.0.0.1 for the machine's external address).
_RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}
os.environ.update(_RAY_ENV)

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from actors.client import ClusterSessionClient  # noqa: E402
from actors.link import LinkAddress  # noqa: E402
from actors.runtime import RAY_ENV  # noqa: E402
from actors.store.service import STORE_ACTOR_NAME  # noqa: E402
from tests.harness import Gateway, gateway_settings  # noqa: E402
from tests.hocus_client import HocusClient  # noqa: E402
from tests.services import free_port  # noqa: E402

__all__ = ["main"]

NODES = 3
SPEC = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


def _node_args(temp: Path, index: int) -> dict[str, Any]:
    return {
        "num_cpus": 1,
        "node_ip_address": "127.0.0.1",
        "temp_dir": str(temp),
        "include_dashboard": False,
        "dashboard_agent_listen_port": free_port(),
        "resources": {f"atelier-node-{index}": 1.0},
    }


def _tcp_peers(pid: int) -> set[int]:
    """Remote ports of the established TCP connections of a process."""
    return {
        c.raddr.port
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.raddr and c.status == psutil.CONN_ESTABLISHED
    }


def _unix_peers(pid: int) -> set[str]:
    return {str(c.raddr) for c in psutil.Process(pid).net_connections(kind="unix") if c.raddr}


async def _exercise(gw: Gateway, edits_per_session: int) -> dict[str, Any]:
    sessions = [await gw.create(spec=SPEC) for _ in range(NODES * 2)]
    placement = gw.placement()
    nodes: dict[str, str] = {}
    addresses: dict[str, LinkAddress] = {}
    for sid in sessions:
        await gw.request("GET", f"/api/sessions/{sid}/state")  # activates it on its host
        handle = await placement.host_handle.remote(sid)
        address: LinkAddress = await handle.address.remote()
        nodes[sid], addresses[sid] = address.hostname, address
    gateway_node = ray.get_runtime_context().get_node_id()
    remote = [sid for sid in sessions if nodes[sid] != gateway_node]
    local = [sid for sid in sessions if nodes[sid] == gateway_node]
    # Hosts go to the emptiest node, sessions to the least-loaded host: every node gets some.
    assert len(set(nodes.values())) == NODES, (
        f"sessions on {len(set(nodes.values()))} of {NODES} nodes: {nodes}"
    )
    assert remote, nodes
    assert local, nodes

    acked = 0
    async with HocusClient(f"{gw.ws_url}/ws") as editor, HocusClient(f"{gw.ws_url}/ws") as watcher:
        for sid in sessions:
            await editor.open(sid)
            await watcher.open(sid)
        started = time.monotonic()
        for n in range(edits_per_session):
            for sid in sessions:
                await editor.insert(sid, f"[{n}]")
        for sid in sessions:
            statuses = await editor.wait_statuses(sid, 1 + edits_per_session, timeout=60)
            assert statuses[1:] == [1] * edits_per_session, statuses
            acked += edits_per_session
        expected = "".join(f"[{n}]" for n in range(edits_per_session))
        for sid in sessions:
            await watcher.wait_text(sid, expected, timeout=60)
        elapsed = time.monotonic() - started
        # The links to hosts on other nodes are TCP connections to their link ports;
        # the same node's host is reached over its Unix socket.
        mine = _tcp_peers(os.getpid())
        for sid in remote:
            assert addresses[sid].tcp_port in mine, f"no TCP link to {addresses[sid]}"
        for sid in local:
            assert addresses[sid].tcp_port not in mine, f"same-node host reached over TCP: {addresses[sid]}"
    # Hosts on other nodes than the store owner reach it over TCP too.
    store = ray.get_actor(STORE_ACTOR_NAME, namespace=gw.settings.actors.namespace)
    store_address: LinkAddress = await store.address.remote()
    crossing = 0
    for sid in sessions:
        if nodes[sid] != store_address.hostname:
            host_pid = await gw.host_pid(sid)
            assert store_address.tcp_port in _tcp_peers(host_pid), (
                f"host {host_pid} not linked to the store by TCP"
            )
            crossing += 1
    for sid in sessions:  # read back from the store itself: every acknowledged edit is durable
        loaded = await gw.load(sid)
        assert loaded is not None
    lost = 0
    async with HocusClient(f"{gw.ws_url}/ws") as reader:
        for sid in sessions:
            await reader.open(sid)
            lost += 0 if reader.text(sid) == expected else 1
    assert lost == 0
    return {
        "nodes": NODES,
        "sessions": len(sessions),
        "sessions_per_node": sorted(list(nodes.values()).count(n) for n in set(nodes.values())),
        "remote_sessions": len(remote),
        "hosts_linked_to_store_over_tcp": crossing,
        "edits_acknowledged": acked,
        "edits_lost": lost,
        "seconds_to_ack_and_fan_out": round(elapsed, 2),
    }


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(f"signal {signum}")  # so the cluster below is shut down on the way out


async def _run(work: Path, database_url: str | None, cluster_address: str) -> dict[str, Any]:
    settings = gateway_settings(database_url=database_url, data_dir=work / "data", hosts=NODES)
    gw = await Gateway(settings).start()
    try:
        assert isinstance(gw.sessions, ClusterSessionClient)
        return await _exercise(gw, edits_per_session=20)
    finally:
        await gw.stop()


def main() -> None:
    assert RAY_ENV == _RAY_ENV, "tests/multinode_driver.py's copy of RAY_ENV is stale"
    signal.signal(signal.SIGTERM, _terminate)
    work = Path(sys.argv[1])
    database_url = sys.argv[2] if len(sys.argv) > 2 else None
    temp = Path(tempfile.mkdtemp(prefix="atelier-mn-", dir="/tmp"))  # Unix socket paths stay short
    # Cluster() writes its address into <RAY_TMPDIR>/ray/ray_current_cluster: ours, not the machine's.
    os.environ["RAY_TMPDIR"] = str(temp)
    (temp / "ray").mkdir()
    cluster = Cluster()
    try:
        cluster.add_node(**_node_args(temp, 0))
        for index in range(1, NODES):
            cluster.add_node(**_node_args(temp, index))
        cluster.wait_for_nodes()
        # Without _node_ip_address Ray swaps 127.0.0.1 for the machine's external address.
        ray.init(
            address=cluster.address,
            _node_ip_address="127.0.0.1",
            namespace=f"multinode-{uuid.uuid4().hex[:8]}",
            log_to_driver=False,
        )
        alive = [n for n in ray.nodes() if n["Alive"]]
        assert len(alive) == NODES, alive
        assert {n["NodeManagerAddress"] for n in alive} == {"127.0.0.1"}, alive
        summary = asyncio.run(_run(work, database_url, cluster.address))
        print(json.dumps(summary), flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
