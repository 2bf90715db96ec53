"""``--ray-address``: load workers as Ray actors spread over a local multi-node cluster.

A ``ray.cluster_utils.Cluster`` with a head (no CPUs) and two one-CPU worker nodes, every
port on 127.0.0.1, its own temp dir; the benchmark runs as its own process (a Ray driver that
joins the cluster) against the relay, with two load workers. Each worker must land on its own
node, and their recordings merge into one report as a local run's do. Counts only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from actors.runtime import RAY_ENV
from benchmarks.cli import SMOKE_FANOUT

NODES = 2


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    temp = Path("/tmp") / f"bench-rc-{uuid.uuid4().hex[:8]}"
    (temp / "ray").mkdir(parents=True)
    saved = {key: os.environ.get(key) for key in (*RAY_ENV, "RAY_TMPDIR")}
    os.environ.update({**RAY_ENV, "RAY_TMPDIR": str(temp)})  # ray_current_cluster goes there, not /tmp/ray
    from ray.cluster_utils import Cluster

    head = {
        "num_cpus": 0,
        "temp_dir": str(temp / "ray"),
        "include_dashboard": False,
        "node_ip_address": "127.0.0.1",
    }
    cluster = Cluster(initialize_head=True, connect=False, head_node_args=head)
    try:
        for _ in range(NODES):
            cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        yield str(cluster.address)
    finally:
        cluster.shutdown()  # type: ignore[no-untyped-call]
        shutil.rmtree(temp, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_load_workers_run_as_actors_on_every_node(cluster_address: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "fanout",
        "--smoke",
        "--targets",
        "relay",
        "--workers",
        str(NODES),
        "--ray-address",
        cluster_address,
        "--quiet",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    data = orjson.loads((out / "results.json").read_bytes())
    (run,) = data["runs"]
    assert run["status"] == "ok", run["error"]
    nodes = run["extra"]["load_nodes"]
    assert sorted(n["worker"] for n in nodes) == list(range(NODES))
    assert len({n["node_id"] for n in nodes}) == NODES  # SPREAD: one worker per node
    (step,) = run["steps"]
    options = SMOKE_FANOUT
    assert step["sent"] == int(options.clients * options.rate * options.duration)
    assert step["delivered"] == step["expected"] == step["sent"] * (options.clients - 1)
    assert step["errors"] == 0
    assert step["acked"] == step["sent"]
    assert step["open_clients"] == options.clients
    assert set(data["summary"]["fanout"]["relay"]) >= {"p50", "p99", "deliveries_per_s", "client_cpu"}
    assert (out / "report.md").stat().st_size > 0
