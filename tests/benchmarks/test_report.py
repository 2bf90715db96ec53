"""Summaries, ratios, the Markdown report, plots and the saturation verdict, from synthetic runs."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from benchmarks.report.markdown import format_value, render_markdown
from benchmarks.report.model import MIB, MemoryStats, RunResult, RunStatus, StepResult
from benchmarks.report.plots import memory_series
from benchmarks.report.summary import ratios, summarize
from benchmarks.report.writer import load_comparison, write_report
from benchmarks.runner import Comparison, rotation
from benchmarks.scenarios.saturate import CLIENT_BOUND, judge_step
from benchmarks.stats import Histogram


def _latency(*values_ms: float) -> Histogram:
    histogram = Histogram()
    for value in values_ms:
        histogram.record(int(value * 1000))
    return histogram


def _step(
    offered: float = 100.0, latency_ms: tuple[float, ...] = (1.0, 2.0, 3.0), **overrides: object
) -> StepResult:
    fields: dict[str, object] = dict(
        step=0,
        offered_rate=offered,
        duration=2.0,
        senders=2,
        sent=int(offered * 2),
        expected=len(latency_ms),
        delivered=len(latency_ms),
        latency=_latency(*latency_ms),
        ack_latency=_latency(0.5),
        wall=2.0,
    )
    fields.update(overrides)
    return StepResult(**fields)  # type: ignore[arg-type]


def _fanout(target: str, round_index: int, latency_ms: tuple[float, ...], peak_mib: int) -> RunResult:
    return RunResult(
        "fanout",
        target,
        round_index,
        protocol="hocuspocus",
        steps=[_step(latency_ms=latency_ms)],
        memory=MemoryStats(peak_pss=peak_mib * MIB, peak_rss=peak_mib * MIB),
    )


def _sessions(
    target: str, sizes: dict[int, tuple[float, tuple[float, ...]]], capped: int | None = None
) -> RunResult:
    """A sessions run: per size, (PSS MiB per session, activation times in ms)."""
    stages = []
    steps = []
    for index, (size, (pss, activation_ms)) in enumerate(sizes.items()):
        stages.append(
            {"sessions": size, "pss_per_session_mib": pss, "activation": _latency(*activation_ms).to_dict()}
        )
        steps.append(_step(latency_ms=(), expected=0, delivered=0, step=index))
    extra: dict[str, object] = {"sizes": stages, "pss_per_session_mib": stages[-1]["pss_per_session_mib"]}
    if capped is not None:
        extra.update(capped_at=list(sizes)[-1], requested_sessions=capped)
    return RunResult("sessions", target, 0, protocol="hocuspocus", steps=steps, extra=extra)


def _comparison() -> Comparison:
    runs = [
        _fanout("atelier", 0, (2.0, 4.0, 6.0), 500),
        _fanout("atelier", 1, (2.0, 4.0, 8.0), 520),
        _fanout("relay", 0, (1.0, 1.0, 2.0), 25),
        _fanout("relay", 1, (1.0, 2.0, 2.0), 25),
        RunResult("fanout", "pycrdt", 0, RunStatus.FAILED, "StartError: boom | twice"),
        RunResult(
            "saturate",
            "atelier",
            0,
            steps=[_step(100.0), _step(200.0, (50.0, 150.0))],
            extra={"max_sustained_rate": 100.0, "stop_reason": "step 1 (200/s): p99 150.0 ms > 100 ms"},
        ),
        RunResult(
            "saturate",
            "relay",
            0,
            steps=[_step(100.0), _step(200.0)],
            extra={"max_sustained_rate": 200.0, "stop_reason": "reached the last step", "client_bound": True},
        ),
        _sessions("atelier", {50: (0.5, (20.0, 30.0)), 1000: (0.1, (15.0, 60.0))}),
        _sessions(
            "atelier-isolated", {50: (60.0, (900.0, 2000.0)), 100: (62.0, (950.0, 2500.0))}, capped=1000
        ),
        # A results.json from before the sizes: one size, its numbers at the top level.
        RunResult(
            "sessions",
            "relay",
            0,
            extra={"sessions": 50, "pss_per_session_mib": -0.2, "activation_ms": {"p50": 3.0}},
        ),
        RunResult(
            "rooms",
            "atelier",
            0,
            protocol="hocuspocus",
            steps=[_step(latency_ms=(1.0, 2.0, 9.0), pending_acks=1)],
            memory=MemoryStats(peak_pss=800 * MIB),
            extra={"pss_per_room_mib": 0.3},
        ),
        RunResult(
            "rooms",
            "relay",
            0,
            protocol="hocuspocus",
            steps=[_step(latency_ms=(0.5, 1.0, 2.0))],
            memory=MemoryStats(peak_pss=40 * MIB),
            extra={"pss_per_room_mib": -0.01},
        ),
        RunResult("rest-ops", "relay", 0, RunStatus.SKIPPED, "aiohttp relay has no REST ops API"),
    ]
    meta = {
        "run": {"targets": ["atelier", "atelier-isolated", "relay", "pycrdt"], "repeats": 2},
        "scenarios": {"fanout": {"clients": 3}, "rooms": {"rooms": 2, "editors": 3}},
    }
    return Comparison(meta=meta, runs=runs)


def test_summary_merges_rounds_and_reports_failures() -> None:
    summary = summarize(_comparison().runs)
    atelier = summary["fanout"]["atelier"]
    assert atelier["status"] == "ok"
    assert atelier["ok_rounds"] == 2
    assert atelier["p50"] == pytest.approx(4.0, rel=0.02)
    assert atelier["p99"] == pytest.approx(8.0, rel=0.02)
    assert atelier["peak_pss_mib"] == pytest.approx(510.0)
    assert atelier["delivered_pct"] == 100.0
    assert summary["fanout"]["pycrdt"]["status"] == "failed"
    assert summary["saturate"]["relay"]["client_bound"] is True
    assert summary["saturate"]["atelier"]["max_sustained"] == 100.0
    assert summary["saturate"]["atelier"]["p99_at_max"] == pytest.approx(3.0, rel=0.02)
    assert summary["rest-ops"]["relay"]["status"] == "skipped"
    rooms = summary["rooms"]["atelier"]
    assert rooms["p99"] == pytest.approx(9.0, rel=0.02)
    assert rooms["errors"] == 1  # a missing ack counts
    assert rooms["peak_pss_mib"] == pytest.approx(800.0)


def test_sessions_summary_has_a_row_per_size_and_the_largest_on_top() -> None:
    sessions = summarize(_comparison().runs)["sessions"]
    atelier = sessions["atelier"]
    assert sorted(atelier["by_size"]) == [50, 1000]
    assert (atelier["sessions"], atelier["pss_per_session_mib"]) == (1000, 0.1)
    assert atelier["activation_p99"] == pytest.approx(60.0, rel=0.03)
    assert atelier["by_size"][50]["activation_p50"] == pytest.approx(20.0, rel=0.03)
    isolated = sessions["atelier-isolated"]
    assert (isolated["sessions"], isolated["capped_at"], isolated["requested_sessions"]) == (100, 100, 1000)
    assert sessions["relay"]["sessions"] == 50
    assert sessions["relay"]["activation_p50"] == 3.0


def test_ratios_are_atelier_over_peer_and_skip_meaningless_ones() -> None:
    table = ratios(summarize(_comparison().runs))
    assert table["fanout"]["p50"]["relay"] == pytest.approx(4.0 / 1.0, rel=0.03)
    assert table["fanout"]["p50"]["pycrdt"] is None  # that peer failed
    assert table["saturate"]["max_sustained"]["relay"] == pytest.approx(0.5)
    assert table["sessions"]["pss_per_session_mib"]["relay"] is None  # noise below zero


def test_markdown_has_a_table_per_scenario_and_the_ratios() -> None:
    comparison = _comparison()
    summary = summarize(comparison.runs)
    text = render_markdown(summary, ratios(summary), comparison.meta, ["latency_cdf_fanout.png"])
    assert "## fanout" in text
    assert "## saturate" in text
    assert "## sessions" in text
    assert "## rooms" in text
    assert "| atelier | 4.00 (4.00–4.00) |" in text  # two rounds: the figure, then min–max over rounds
    assert "| atelier | 50 | 0.500 |" in text
    assert "| atelier | 1,000 | 0.100 |" in text
    assert "| atelier (isolated) | 100 | 62.000 |" in text
    assert "atelier (isolated) stopped at 100 live sessions (`--isolated-max-sessions`)" in text
    assert "1,000 would need ≈61 GiB" in text
    assert "| aiohttp relay | 50 | ≈0 |" in text
    assert "| rooms | p99 ms (lower is better) |" in text
    assert "**failed**: round 1: StartError: boom / twice" in text
    assert "client-bound" in text
    assert "| fanout | p50 ms (lower is better) | n/a | 4.0" in text  # vs isolated: no fanout run
    assert "![latency_cdf_fanout.png](latency_cdf_fanout.png)" in text


def test_format_value() -> None:
    assert format_value(None, 2) == "n/a"
    assert format_value(1234.5678, 1) == "1,234.6"
    assert format_value(12, 0) == "12"
    assert format_value(True, 0) == "yes"


def test_report_files_are_written_and_json_reloads(tmp_path: Path) -> None:
    written = write_report(_comparison(), tmp_path)
    assert {
        "json",
        "markdown",
        "latency_cdf_fanout.png",
        "latency_cdf_rooms.png",
        "latency_vs_load.png",
        "memory_per_session.png",
    } <= set(written)
    for path in written.values():
        assert path.stat().st_size > 0
    data = orjson.loads((tmp_path / "results.json").read_bytes())
    assert set(data) >= {"meta", "runs", "summary", "ratios"}
    again = load_comparison(tmp_path / "results.json")
    assert [r.to_dict() for r in again.runs] == [r.to_dict() for r in _comparison().runs]


def test_memory_series_has_every_size_of_every_target() -> None:
    series = memory_series(_comparison().runs)
    assert series["atelier"] == {50: 0.5, 1000: 0.1}
    assert series["atelier-isolated"] == {50: 60.0, 100: 62.0}
    assert series["relay"] == {50: -0.2}


def test_judge_step() -> None:
    assert judge_step(_step(), p99_bound_ms=100.0) is None
    assert "p99" in str(judge_step(_step(latency_ms=(1.0, 500.0)), p99_bound_ms=100.0))
    assert CLIENT_BOUND in str(judge_step(_step(sent=100), p99_bound_ms=100.0))
    assert "missing" in str(judge_step(_step(delivered=1), p99_bound_ms=100.0))
    assert "errors" in str(judge_step(_step(errors=2), p99_bound_ms=100.0))
    assert "acknowledged" in str(judge_step(_step(pending_acks=3), p99_bound_ms=100.0))


def test_step_result_properties() -> None:
    step = _step(expected=10, delivered=7)
    assert step.lost == 3
    assert not step.complete
    assert step.achieved_rate == 100.0
    assert step.deliveries_per_s == 3.5
    assert StepResult.from_dict(step.to_dict()).to_dict() == step.to_dict()


def test_rotation_starts_each_round_with_the_next_target() -> None:
    targets = ["a", "b", "c"]
    assert [rotation(targets, r) for r in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]
    assert rotation([], 3) == []
