"""Smoke-size comparisons: fanout, rooms and rooms-saturate end to end against every server,
sessions by size, and fanout both without and with permessage-deflate offered.

Real servers in their own processes (atelier with its own local Ray and SQLite, the npm
Hocuspocus server, pycrdt-websocket, the aiohttp relay), real load workers, the real report.
Asserts counts and shape only, never timings: every edit reached every other editor of its
room, no errors, every ack came back, and the report files exist.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import psutil
import pytest

from benchmarks.cli import SMOKE, SMOKE_FANOUT, SMOKE_ROOMS
from benchmarks.config import (
    RoomsOptions,
    RoomsSaturateOptions,
    SessionsOptions,
    saturate_rates,
    validate,
)
from benchmarks.report.model import RunResult, StepResult
from benchmarks.report.writer import write_report
from benchmarks.runner import Comparison, run_comparison
from benchmarks.scenarios.sessions import sizes_for

from .smoke_options import smoke_run

TARGETS = ("pycrdt", "relay", "hocuspocus", "atelier")
SCENARIOS = ("fanout", "rooms", "rooms-saturate")
FANOUT = SMOKE_FANOUT  # 3 editors in one room, 5 edits/s each, 2 s
ROOMS = SMOKE_ROOMS  # 4 rooms of 3 editors, 2 edits/s each, 2 s
ROOMS_SATURATE = SMOKE["rooms-saturate"]  # 3 rooms of 2 editors, 2 → 4 → 8 edits/s each, 1 s steps
assert isinstance(ROOMS_SATURATE, RoomsSaturateOptions)
DEFLATE_TARGETS = ("relay", "hocuspocus")
SESSIONS = SMOKE["sessions"]  # 2 then 4 live sessions; isolated stops at 3
SESSION_TARGETS = ("relay", "atelier", "atelier-isolated")

_BY_TARGET = [
    "pycrdt",
    "relay",
    pytest.param("hocuspocus", marks=pytest.mark.interop),
    pytest.param("atelier", marks=pytest.mark.integration),
]


@pytest.fixture(scope="module")
async def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Path]:
    out = tmp_path_factory.mktemp("bench-smoke")
    run = smoke_run(TARGETS)
    scenarios = [("fanout", FANOUT), ("rooms", ROOMS), ("rooms-saturate", ROOMS_SATURATE)]
    for name, options in scenarios:
        validate(options, run, scenario=name)
    comparison = await run_comparison(scenarios, run, out)
    write_report(comparison, out)
    return comparison, out


@pytest.fixture(scope="module")
async def deflate_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Path]:
    out = tmp_path_factory.mktemp("bench-smoke-deflate")
    run = replace(smoke_run(DEFLATE_TARGETS), compress_both=True)
    comparison = await run_comparison([("fanout", FANOUT)], run, out)
    write_report(comparison, out)
    return comparison, out


@pytest.fixture(scope="module")
async def sessions_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Path]:
    out = tmp_path_factory.mktemp("bench-smoke-sessions")
    run = smoke_run(SESSION_TARGETS)
    validate(SESSIONS, run)
    comparison = await run_comparison([("sessions", SESSIONS)], run, out)
    write_report(comparison, out)
    return comparison, out


def _only(comparison: Comparison, scenario: str, target: str) -> RunResult:
    (run,) = [r for r in comparison.runs if r.scenario == scenario and r.target == target]
    assert run.status == "ok", run.error
    return run


def _clean(step: StepResult) -> None:
    assert (step.errors, step.rejected, step.duplicates, step.stale) == (0, 0, 0, 0), step.error_samples


@pytest.mark.parametrize("target", _BY_TARGET)
def test_every_edit_reaches_every_other_editor(smoke: tuple[Comparison, Path], target: str) -> None:
    run = _only(smoke[0], "fanout", target)
    (step,) = run.steps
    options = FANOUT
    assert step.sent == int(options.clients * options.rate * options.duration)
    assert step.expected == step.sent * (options.clients - 1)
    assert step.delivered == step.expected
    assert step.latency.count == step.expected
    _clean(step)
    assert step.open_clients == options.clients
    if run.protocol == "hocuspocus":
        assert step.acked == step.sent
        assert step.pending_acks == 0
    else:
        assert step.acked == 0  # plain y-websocket has no SyncStatus
    assert run.memory is not None
    assert run.memory.peak_pss > 0
    assert run.sync.count == options.clients


@pytest.mark.parametrize("target", _BY_TARGET)
def test_rooms_every_edit_reaches_the_rest_of_its_room_only(
    smoke: tuple[Comparison, Path], target: str
) -> None:
    run = _only(smoke[0], "rooms", target)
    (step,) = run.steps
    options: RoomsOptions = ROOMS
    assert step.sent == int(options.clients * options.rate * options.duration)
    # Each edit reaches the other editors of its room, and nobody in another room.
    assert step.expected == step.sent * (options.editors - 1)
    assert step.delivered == step.expected == step.latency.count
    _clean(step)
    assert step.open_clients == options.clients
    if run.protocol == "hocuspocus":
        assert step.acked == step.sent
        assert step.pending_acks == 0
    assert run.params["rooms"] == options.rooms
    assert run.sync.count == options.clients
    assert "pss_per_room_mib" in run.extra


@pytest.mark.parametrize("target", _BY_TARGET)
def test_rooms_saturate_steps_up_until_a_step_is_not_sustained(
    smoke: tuple[Comparison, Path], target: str
) -> None:
    run = _only(smoke[0], "rooms-saturate", target)
    options = ROOMS_SATURATE
    offered = [rate * options.clients for rate in saturate_rates(options)]
    assert 1 <= len(run.steps) <= len(offered)
    assert [step.offered_rate for step in run.steps] == offered[: len(run.steps)]
    for step in run.steps:
        _clean(step)
        assert step.open_clients == options.clients
        assert step.latency.count == step.delivered
    best = run.extra["max_sustained_rate"]
    assert best in (0.0, *offered)
    # every step before the last one was sustained; the last one too when the run went to the end
    sustained = (
        offered[: len(run.steps) - 1] if "reached the last step" not in run.extra["stop_reason"] else offered
    )
    assert best == (sustained[-1] if sustained else 0.0)
    assert run.extra["max_sustained_per_editor"] == best / options.clients
    if target == "atelier":
        hosts = run.extra["host_balance"]
        assert sum(host["sessions"] for host in hosts) == options.rooms  # every room is a live session
        assert all(host["cores"] is not None for host in hosts) is (best > 0)
    else:
        assert "host_balance" not in run.extra


def test_deflate_both_ways_and_who_agreed(deflate_smoke: tuple[Comparison, Path]) -> None:
    comparison, out = deflate_smoke
    labels = sorted({(r.scenario, r.target) for r in comparison.runs})
    assert labels == sorted((s, t) for s in ("fanout", "fanout+deflate") for t in DEFLATE_TARGETS)
    for run in comparison.runs:
        assert run.status == "ok", run.error
        note = run.extra["compression"]
        assert note["offered"] is run.scenario.endswith("+deflate")
        assert note["sockets"] == FANOUT.clients
        (step,) = run.steps
        assert step.delivered == step.expected
    agreed = {
        r.target: r.extra["compression"]["negotiated"] for r in comparison.runs if r.scenario != "fanout"
    }
    # aiohttp accepts the offer; Hocuspocus' ws server declines it by default
    assert agreed == {"relay": "yes", "hocuspocus": "no"}
    report = (out / "report.md").read_text()
    assert "## fanout+deflate" in report
    assert "| fanout | aiohttp relay | server CPU (cores) |" in report


@pytest.mark.parametrize(
    "target",
    [
        "relay",
        pytest.param("atelier", marks=pytest.mark.integration),
        pytest.param("atelier-isolated", marks=pytest.mark.integration),
    ],
)
def test_sessions_grow_through_the_sizes(sessions_smoke: tuple[Comparison, Path], target: str) -> None:
    run = _only(sessions_smoke[0], "sessions", target)
    options: SessionsOptions = SESSIONS
    sizes = sizes_for(options, process_per_session=target == "atelier-isolated")
    assert [stage["sessions"] for stage in run.extra["sizes"]] == sizes
    assert [stage["activated"] for stage in run.extra["sizes"]] == [
        b - a for a, b in zip([0, *sizes], sizes, strict=False)
    ]
    for step, size in zip(run.steps, sizes, strict=True):
        assert step.sent == size  # one edit per live session at every size
        assert step.expected == 0  # a session per editor: nobody else to deliver to
        _clean(step)
        assert step.acked == step.sent
        assert step.pending_acks == 0
        assert step.open_clients == size
    assert run.sync.count == sizes[-1]
    if target.startswith("atelier"):
        assert run.create.count == sizes[-1]  # created over REST, each timed
    if target == "atelier-isolated":
        assert (run.extra["capped_at"], run.extra["requested_sessions"]) == (3, 4)


def test_alternating_runs_and_report_files(smoke: tuple[Comparison, Path]) -> None:
    comparison, out = smoke
    assert [(r.scenario, r.target) for r in comparison.runs] == [(s, t) for s in SCENARIOS for t in TARGETS]
    for name in ("results.json", "report.md", "latency_cdf_fanout.png", "latency_cdf_rooms.png"):
        assert (out / name).stat().st_size > 0
    data = orjson.loads((out / "results.json").read_bytes())
    assert set(data["summary"]["fanout"]) == set(data["summary"]["rooms"]) == set(TARGETS)
    assert set(data["summary"]["rooms-saturate"]) == set(TARGETS)
    assert data["meta"]["machine_load"]["before"]["loadavg"]
    report = (out / "report.md").read_text()
    assert "## rooms" in report
    assert "## rooms-saturate" in report
    assert "Machine load: before the run" in report
    for title in ("atelier", "Hocuspocus", "pycrdt-websocket", "aiohttp relay"):
        assert f"| {title}" in report
    _all_stopped(comparison)


def test_sessions_report_has_a_row_per_size(sessions_smoke: tuple[Comparison, Path]) -> None:
    comparison, out = sessions_smoke
    report = (out / "report.md").read_text()
    assert "| atelier | 2 |" in report
    assert "| atelier | 4 |" in report
    assert "| atelier (isolated) | 3 |" in report
    assert "stopped at 3 live sessions" in report
    assert (out / "memory_per_session.png").stat().st_size > 0
    _all_stopped(comparison)


def _all_stopped(comparison: Comparison) -> None:
    """Every server process the runs started (Ray's included) is gone again."""
    for run in comparison.runs:
        assert run.extra["server_pids"], run.target
        alive = [pid for pid in run.extra["server_pids"] if _running(pid)]
        assert alive == [], f"{run.target} left processes behind: {alive}"


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
