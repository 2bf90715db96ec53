"""Smoke runs of the API scenarios (stages, stages-rejoin, runs, mixed) and of scale.

atelier runs as a managed ``atelier serve`` (offline LLM provider, big quota, its own auth
secret and minted tokens); the relay shows how a server without those APIs is reported. Counts
and shape only, never timings.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from benchmarks.cli import SMOKE, SMOKE_BASES
from benchmarks.config import (
    MixedOptions,
    RoomsOptions,
    RunsOptions,
    ScaleOptions,
    StagesOptions,
    validate,
)
from benchmarks.report.model import RunResult
from benchmarks.report.writer import write_report
from benchmarks.runner import Comparison, run_comparison

from .smoke_options import smoke_run

API = ("stages", "stages-rejoin", "runs", "mixed")


@pytest.fixture(scope="module")
async def api_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Path]:
    out = tmp_path_factory.mktemp("bench-api")
    run = smoke_run(("atelier", "relay"))
    scenarios = [(name, SMOKE[name]) for name in API]
    for _, options in scenarios:
        validate(options, run)
    comparison = await run_comparison(scenarios, run, out)
    write_report(comparison, out)
    return comparison, out


def _ok(comparison: Comparison, scenario: str, target: str = "atelier") -> RunResult:
    (run,) = [r for r in comparison.runs if r.scenario == scenario and r.target == target]
    assert run.status == "ok", run.error
    return run


@pytest.mark.integration
@pytest.mark.parametrize("scenario", ["stages", "stages-rejoin"])
def test_stages_drive_every_flow_through_requirements_and_bom(
    api_smoke: tuple[Comparison, Path], scenario: str
) -> None:
    run = _ok(api_smoke[0], scenario)
    options = SMOKE[scenario]
    assert isinstance(options, StagesOptions)
    (step,) = run.steps
    assert step.errors == 0, step.error_samples
    flows = options.users * options.flows
    assert step.counts["flows"] == flows
    assert step.counts["stages"] == 2 * flows  # requirements and BOM
    events = step.counts["events"]
    assert events >= 2 * flows * 3  # at least stage_change, artifact_update, stage_complete each
    # every event timed once; one first event per stage (a rejoin does not start a new one)
    assert step.hists["event_latency"].count == events
    assert step.hists["first_event"].count == step.hists["stage_duration"].count == 2 * flows
    if options.drop_after:
        assert step.counts["rejoins"] == 2 * flows
        assert step.counts.get("events_lost", 0) == 0
        assert step.counts.get("events_duplicated", 0) == 0
    else:
        assert "rejoins" not in step.counts
    assert run.memory is not None
    assert run.memory.peak_pss > 0


@pytest.mark.integration
def test_runs_with_and_without_a_ready_file(api_smoke: tuple[Comparison, Path]) -> None:
    run = _ok(api_smoke[0], "runs")
    options = SMOKE["runs"]
    assert isinstance(options, RunsOptions)
    (step,) = run.steps
    assert step.errors == 0, step.error_samples
    planned = int(options.users * options.rate * options.duration)
    assert step.counts["runs_submitted"] == step.counts["runs_ok"] == planned
    assert step.counts.get("quota_refusals", 0) == 0  # the managed server's quota is big enough
    assert run.params["file_users"] == round(options.users * options.with_file) == 1
    per_user = planned // options.users
    assert step.hists["run_latency_file"].count == per_user
    assert step.hists["run_latency_plain"].count == per_user


@pytest.mark.integration
def test_mixed_runs_every_kind_of_client_at_once(api_smoke: tuple[Comparison, Path]) -> None:
    run = _ok(api_smoke[0], "mixed")
    options = SMOKE["mixed"]
    assert isinstance(options, MixedOptions)
    (step,) = run.steps
    assert step.errors == 0, step.error_samples
    assert step.pending_acks == 0, step.error_samples
    edits = int(options.editors * options.editor_rate * options.duration)
    ops = int(options.agents * options.agent_rate * options.duration)
    assert step.sent == edits + ops
    assert step.agent_ops == ops
    assert step.delivered == step.expected > 0
    assert step.counts["flows"] >= options.stage_users
    assert step.counts["events"] > 0
    assert step.counts["runs_ok"] == int(options.run_users * options.run_rate * options.duration)


@pytest.mark.integration
def test_servers_without_the_apis_are_skipped_and_the_report_has_every_table(
    api_smoke: tuple[Comparison, Path],
) -> None:
    comparison, out = api_smoke
    for scenario in API:
        (relay,) = [r for r in comparison.runs if r.scenario == scenario and r.target == "relay"]
        assert relay.status == "skipped"
        assert "no design-engine or workspace API" in str(relay.error)
    report = (out / "report.md").read_text()
    for scenario in API:
        assert f"## {scenario}" in report
    data = orjson.loads((out / "results.json").read_bytes())
    assert data["summary"]["stages-rejoin"]["atelier"]["events_lost"] == 0
    assert data["summary"]["runs"]["atelier"]["runs_ok"] > 0


async def test_scale_repeats_a_scenario_at_growing_sizes(tmp_path: Path) -> None:
    run = smoke_run(("relay", "pycrdt"))
    scale = SMOKE["scale"]
    assert isinstance(scale, ScaleOptions)
    assert scale.sizes == "2,4"
    comparison = await run_comparison([("scale", scale)], run, tmp_path, scale_bases=dict(SMOKE_BASES))
    written = write_report(comparison, tmp_path)
    assert [(r.target, r.params["scale_size"]) for r in comparison.runs] == [
        ("relay", 2),
        ("pycrdt", 2),
        ("relay", 4),
        ("pycrdt", 4),
    ]
    base = SMOKE_BASES["rooms"]
    assert isinstance(base, RoomsOptions)
    for result in comparison.runs:
        assert result.status == "ok", result.error
        assert result.scenario == "scale", result.error
        (step,) = result.steps
        size = result.params["scale_size"]
        assert result.params["rooms"] == size
        assert result.params["scale_scenario"] == "rooms"
        editors = base.editors
        assert step.sent == int(size * editors * base.rate * scale.duration)
        assert step.delivered == step.expected == step.sent * (editors - 1)
    data = orjson.loads((tmp_path / "results.json").read_bytes())
    assert sorted(data["summary"]["scale"]["relay"]["by_size"]) == ["2", "4"]
    assert (tmp_path / "scale.png").stat().st_size > 0
    assert "scale.png" in written
    assert "| aiohttp relay | 4 |" in (tmp_path / "report.md").read_text()
