"""``--url``: the same scenarios against a server the test starts itself, with the same reports.

atelier is started as ``atelier serve`` (through the managed target, with a secret the test
knows) and then measured twice: managed by the runner, and as an existing server named by
``--url`` with a token from ``--token-command`` (``atelier token --user bench``). Both runs
must produce the same report fields. A y-websocket server (the pycrdt-websocket peer) is
measured through the CLI the same way. Counts and shape only, never timings.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.cli import SMOKE, main
from benchmarks.config import RunOptions
from benchmarks.report.model import MemoryStats, RunResult, StepResult
from benchmarks.report.summary import summarize
from benchmarks.report.writer import write_report
from benchmarks.runner import Comparison, run_comparison
from benchmarks.targets.process import free_port
from benchmarks.targets.servers import RunningServer, make_target

SCENARIOS = ("fanout", "stages")


def _options(**changes: Any) -> RunOptions:
    base: dict[str, Any] = dict(repeats=1, workers=1, drain_timeout=10.0, connect_timeout=60.0, quiet=True)
    return RunOptions(**{**base, **changes})


@pytest.fixture(scope="module")
async def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Comparison]:
    """(managed comparison, --url comparison) of fanout and stages at smoke size."""
    secret = secrets.token_hex(32)
    scenarios = [(name, SMOKE[name]) for name in SCENARIOS]
    managed = await run_comparison(
        scenarios, _options(targets=("atelier",)), tmp_path_factory.mktemp("managed")
    )
    target = make_target("atelier", {"ATELIER_AUTH_SECRET": secret})
    server: RunningServer = await target.start(tmp_path_factory.mktemp("server"))
    try:
        command = f"env ATELIER_AUTH_SECRET={secret} {sys.executable} -m gateway.cli token --user bench"
        run = _options(url=server.base_url, server_kind="atelier", token_command=command)
        out = tmp_path_factory.mktemp("remote")
        remote = await run_comparison(scenarios, run, out)
        write_report(remote, out)
        assert await asyncio.to_thread(server.process.tree), "the --url run must leave the server running"
    finally:
        await target.stop(server)
    return managed, remote


@pytest.mark.integration
def test_url_run_measures_what_a_managed_run_measures(both: tuple[Comparison, Comparison]) -> None:
    managed, remote = both
    assert [(r.scenario, r.target, r.status) for r in remote.runs] == [
        (s, "remote", "ok") for s in SCENARIOS
    ], [r.error for r in remote.runs]
    assert [r.status for r in managed.runs] == ["ok", "ok"], [r.error for r in managed.runs]
    mine, theirs = summarize(managed.runs), summarize(remote.runs)
    for scenario in SCENARIOS:
        assert set(theirs[scenario]["remote"]) == set(mine[scenario]["atelier"])
        # the server is on this machine: its memory and CPU are measured and the report says so
        assert theirs[scenario]["remote"]["server_measured"].startswith("local")
        assert theirs[scenario]["remote"]["peak_pss_mib"] > 0
    for got, want in zip(remote.runs, managed.runs, strict=True):
        (a,), (b,) = got.steps, want.steps
        assert (a.sent, a.expected, a.delivered, a.errors) == (b.sent, b.expected, b.delivered, b.errors)
        assert a.counts == b.counts  # stages: the same flows, stages and events
    assert remote.meta["run"]["targets"] == ["remote"]
    assert "--url" in remote.meta["targets"]["remote"]


def test_url_against_a_y_websocket_server_through_the_cli(tmp_path: Path) -> None:
    port = free_port()
    peer = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.peers.pycrdt_ws_server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port)
        out = tmp_path / "out"
        code = main(
            [
                "fanout",
                "--smoke",
                "--url",
                f"http://127.0.0.1:{port}",
                "--server-kind",
                "y-websocket",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        assert code == 0
    finally:
        peer.terminate()
        peer.wait(timeout=30)
    data = orjson.loads((out / "results.json").read_bytes())
    (run,) = data["runs"]
    assert (run["target"], run["status"], run["protocol"]) == ("remote", "ok", "y-websocket"), run["error"]
    (step,) = run["steps"]
    assert step["delivered"] == step["expected"] == step["sent"] * (SMOKE["fanout"].clients - 1)  # type: ignore[union-attr]
    assert run["extra"]["server_measured"].startswith("local")
    assert run["memory"]["peak_pss"] > 0
    assert "existing y-websocket server at http://127.0.0.1" in (out / "report.md").read_text()


def _wait_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_remote_server_reports_no_memory_or_cpu() -> None:
    """Pure: a run whose server is on another machine keeps its client figures only."""
    step = StepResult(
        step=0,
        offered_rate=1.0,
        duration=1.0,
        senders=2,
        sent=2,
        expected=2,
        delivered=2,
        server_cpu=0.0,
        client_cpu=0.1,
    )
    local = RunResult(
        "fanout",
        "atelier",
        0,
        steps=[step],
        memory=MemoryStats(peak_pss=2**20),
        extra={"server_measured": "local: 3 process(es)"},
    )
    remote = RunResult(
        "fanout",
        "remote",
        0,
        steps=[step],
        memory=None,
        extra={"server_measured": "remote: server memory and CPU not measured"},
    )
    summary = summarize([local, remote])["fanout"]
    assert summary["atelier"]["server_cpu"] == 0.0
    assert summary["atelier"]["peak_pss_mib"] == 1.0
    assert summary["remote"]["server_cpu"] is None
    assert summary["remote"]["peak_pss_mib"] is None
    assert summary["remote"]["client_cpu"] == 0.1
    assert summary["remote"]["delivered_pct"] == 100.0
    assert summary["remote"]["server_measured"].startswith("remote")
