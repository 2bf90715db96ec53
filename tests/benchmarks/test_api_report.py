"""The API scenarios' and scale's summaries, the recorder's named counters, the SSE reader (by value)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

from benchmarks.loadgen.api import iter_sse
from benchmarks.loadgen.recorder import Recorder
from benchmarks.report.api_summary import runs_summary, scale_summary, stages_summary
from benchmarks.report.markdown import render_markdown
from benchmarks.report.model import RunResult, StepResult
from benchmarks.report.summary import ratios, summarize
from benchmarks.stats import Histogram


def _hist(*ms: float) -> Histogram:
    histogram = Histogram()
    for value in ms:
        histogram.record_ns(int(value * 1e6))
    return histogram


def _step(counts: dict[str, int], hists: dict[str, Histogram], wall: float = 2.0) -> StepResult:
    return StepResult(
        step=0,
        offered_rate=0.0,
        duration=wall,
        senders=2,
        sent=0,
        expected=0,
        delivered=0,
        wall=wall,
        counts=counts,
        hists=hists,
    )


def test_recorder_counts_and_named_histograms_round_trip() -> None:
    recorder = Recorder()
    recorder.begin(0)
    recorder.count("events", 3)
    recorder.count("events")
    recorder.observe("event_latency", 2_000_000)
    recorder.count("stages")
    data = recorder.current.to_dict()
    assert data["counts"] == {"events": 4, "stages": 1}
    assert Histogram.from_dict(data["hists"]["event_latency"]).count == 1
    assert recorder.progress()["api"] == 1
    step = _step({"events": 4}, {"event_latency": _hist(2.0)})
    assert StepResult.from_dict(step.to_dict()).counts == {"events": 4}
    assert StepResult.from_dict(step.to_dict()).hists["event_latency"].count == 1


def test_stages_and_runs_summaries() -> None:
    stages = RunResult(
        "stages-rejoin",
        "atelier",
        0,
        steps=[
            _step(
                {"flows": 2, "stages": 4, "events": 100, "rejoins": 4},
                {
                    "first_event": _hist(10, 20),
                    "event_latency": _hist(*[30.0] * 100),
                    "stage_duration": _hist(50, 60),
                },
            )
        ],
    )
    entry = stages_summary([stages])
    assert (entry["flows"], entry["stages"], entry["events"], entry["rejoins"]) == (2, 4, 100, 4)
    assert (entry["events_lost"], entry["events_duplicated"], entry["errors"]) == (0, 0, 0)
    assert entry["events_per_s"] == 50.0
    assert 29 < entry["event_p99"] < 31
    assert 9 < entry["first_event_p50"] < 21
    runs = RunResult(
        "runs",
        "atelier",
        0,
        steps=[
            _step(
                {"runs_submitted": 5, "runs_ok": 4, "quota_refusals": 1},
                {
                    "run_latency": _hist(100, 100, 200, 200),
                    "run_latency_file": _hist(200, 200),
                    "run_latency_plain": _hist(100, 100),
                },
            )
        ],
    )
    entry = runs_summary([runs])
    assert (entry["runs_ok"], entry["runs_per_s"], entry["quota_refusals"]) == (4, 2.0, 1)
    assert entry["file_p50"] > entry["plain_p50"]
    summary = summarize([stages, runs])
    report = render_markdown(summary, ratios(summary), {"run": {"targets": ["atelier"]}, "scenarios": {}})
    assert "## stages-rejoin" in report
    assert "## runs" in report
    assert "| quota refusals |" in report


def test_scale_summary_has_a_row_per_size() -> None:
    runs = [
        RunResult(
            "scale",
            "relay",
            0,
            params={"scale_scenario": "runs", "scale_size": size},
            steps=[_step({"runs_ok": 2 * size}, {"run_latency": _hist(*[float(size)] * size)})],
        )
        for size in (1, 4)
    ]
    entry = scale_summary(runs)
    assert entry["scale_scenario"] == "runs"
    assert sorted(entry["by_size"]) == [1, 4]
    assert [entry["by_size"][n]["throughput"] for n in (1, 4)] == [1.0, 4.0]
    assert entry["by_size"][4]["latency_p50"] > entry["by_size"][1]["latency_p50"]


async def test_sse_reader_splits_events_and_skips_comments() -> None:
    async def lines() -> AsyncIterator[bytes]:
        for line in (
            b": ping\n",
            b"id: 7\n",
            b"event: stage_event\n",
            b'data: {"type":"llm_text"}\n',
            b"\n",
            b"event: done\n",
            b'data: {"finished":true}\n',
            b"\n",
        ):
            yield line

    response = SimpleNamespace(content=lines())
    events = [event async for event in iter_sse(response)]  # type: ignore[arg-type]
    assert [(e.event, e.id, e.data) for e in events] == [
        ("stage_event", "7", ['{"type":"llm_text"}']),
        ("done", None, ['{"finished":true}']),
    ]
