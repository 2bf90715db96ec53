"""A smoke-size comparison: the fanout scenario end to end against every server.

Real servers in their own processes (atelier with its own local Ray and SQLite, the npm
Hocuspocus server, pycrdt-websocket, the aiohttp relay), real load workers, the real report.
Asserts counts and shape only, never timings: every edit reached every other editor, no
errors, every ack came back, and the report files exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import psutil
import pytest

from benchmarks.cli import SMOKE_FANOUT
from benchmarks.config import RunOptions, validate
from benchmarks.report.writer import write_report
from benchmarks.runner import Comparison, run_comparison

TARGETS = ("pycrdt", "relay", "hocuspocus", "atelier")
FANOUT = SMOKE_FANOUT


@pytest.fixture(scope="module")
async def smoke(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Comparison, Path]]:
    out = tmp_path_factory.mktemp("bench-smoke")
    options = FANOUT  # 3 editors in one room, 5 edits/s each, 2 s
    run = RunOptions(targets=TARGETS, repeats=1, workers=1, drain_timeout=10.0, connect_timeout=60.0, quiet=True)
    validate(options, run)
    comparison = await run_comparison([("fanout", options)], run, out)
    write_report(comparison, out)
    yield comparison, out


@pytest.mark.parametrize(
    "target",
    [
        "pycrdt",
        "relay",
        pytest.param("hocuspocus", marks=pytest.mark.interop),
        pytest.param("atelier", marks=pytest.mark.integration),
    ],
)
def test_every_edit_reaches_every_other_editor(smoke: tuple[Comparison, Path], target: str) -> None:
    comparison, _ = smoke
    (run,) = [r for r in comparison.runs if r.target == target]
    assert run.status == "ok", run.error
    (step,) = run.steps
    options = FANOUT
    assert step.sent == int(options.clients * options.rate * options.duration)
    assert step.expected == step.sent * (options.clients - 1)
    assert step.delivered == step.expected
    assert step.latency.count == step.expected
    assert (step.errors, step.rejected, step.duplicates, step.stale) == (0, 0, 0, 0), step.error_samples
    assert step.open_clients == options.clients
    if run.protocol == "hocuspocus":
        assert step.acked == step.sent and step.pending_acks == 0
    else:
        assert step.acked == 0  # plain y-websocket has no SyncStatus
    assert run.memory is not None and run.memory.peak_pss > 0
    assert run.sync.count == options.clients


def test_alternating_runs_and_report_files(smoke: tuple[Comparison, Path]) -> None:
    comparison, out = smoke
    assert [r.target for r in comparison.runs] == list(TARGETS)
    for name in ("results.json", "report.md", "latency_cdf_fanout.png"):
        assert (out / name).stat().st_size > 0
    data = orjson.loads((out / "results.json").read_bytes())
    assert set(data["summary"]["fanout"]) == set(TARGETS)
    report = (out / "report.md").read_text()
    for title in ("atelier", "Hocuspocus", "pycrdt-websocket", "aiohttp relay"):
        assert f"| {title}" in report
    # Every server process the runs started (Ray's included) is gone again.
    for run in comparison.runs:
        assert run.extra["server_pids"], run.target
        alive = [pid for pid in run.extra["server_pids"] if _running(pid)]
        assert alive == [], f"{run.target} left processes behind: {alive}"


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
