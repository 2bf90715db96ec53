"""Sessions on three Ray nodes (ray.cluster_utils.Cluster on 127.0.0.1), links across them.

The cluster and its gateway run in a child process (tests/multinode_driver.py) so that
its Ray connection never meets the run-wide ``ray_cluster`` fixture of this process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..cluster_procs import ROOT, base_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

LIMIT = 480.0  # seconds the whole child may take


def test_a_gateway_serves_sessions_on_every_node_of_a_multinode_cluster(pg_url: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.multinode_driver", str(tmp_path), pg_url],
        cwd=ROOT,
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # it shuts its cluster down on SIGTERM
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=30)
        raise AssertionError(f"multinode driver exceeded {LIMIT}s:\n{err[-4000:]}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    assert process.returncode == 0, f"driver failed ({process.returncode}):\n{out[-2000:]}\n{err[-6000:]}"
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["nodes"] == 3
    assert len(summary["sessions_per_node"]) == 3
    assert summary["remote_sessions"] > 0
    assert summary["hosts_linked_to_store_over_tcp"] > 0
    assert summary["edits_lost"] == 0
    assert summary["edits_acknowledged"] == 20 * summary["sessions"]
    print(
        f"\nmultinode: {summary['nodes']} Ray nodes, {summary['sessions']} sessions placed"
        f" {summary['sessions_per_node']} per node, {summary['remote_sessions']} behind TCP links from the"
        f" gateway, {summary['hosts_linked_to_store_over_tcp']} hosts linked to the store owner over TCP;"
        f" {summary['edits_acknowledged']} edits acknowledged, {summary['edits_lost']} lost"
    )
