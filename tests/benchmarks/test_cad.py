"""The cad benchmark: its BOM, sizes and summary by value; a smoke run on the suite's Ray.

The smoke run (2 parts, one worker) goes through the real path — ``generate_part_sync`` in
process, ``warm_up`` and ``generate_part`` on Ray, the real report — on the session cluster
(``ray_cluster``), which the benchmark reuses instead of starting its own. Counts only, never
timings.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from actors.engine.cad.params import Shape, parse_part
from benchmarks.cad.bom import PARTS, bom
from benchmarks.cad.options import SMOKE_CAD, CadOptions, round_budget_s, validate_cad, worker_counts
from benchmarks.cad.report import load_results, render_markdown, write_report
from benchmarks.cad.results import (
    CadResults,
    JobSample,
    ModeResult,
    RoundResult,
    compare,
    percentile,
    summarize,
)
from benchmarks.cli import build_parser
from benchmarks.config import BenchConfigError


def test_the_bom_is_twenty_varied_parts_that_all_parse() -> None:
    specs = [parse_part(node) for node in PARTS]
    assert len(specs) == 20
    assert len({s.temp_id for s in specs}) == 20
    assert {s.shape for s in specs} == set(Shape)
    assert any(s.holes for s in specs)
    assert any(getattr(s.dimensions, "boss", None) for s in specs)
    assert all(s.material.known for s in specs)
    assert all(node["partType"] == "Manufacture" for node in PARTS)


def test_larger_boms_repeat_the_parts_under_new_ids() -> None:
    nodes = bom(45)
    assert len({n["tempId"] for n in nodes}) == 45
    assert nodes[20]["tempId"] == "base-plate-2"
    assert nodes[44]["tempId"] == "enclosure-3"
    nodes[0]["parameters"]["length_mm"] = 1
    assert PARTS[0]["parameters"]["length_mm"] == 300  # copies, never the shared table


def test_worker_counts_and_bounds() -> None:
    assert worker_counts("1,all", 2) == [1, 2]
    assert worker_counts("all,1,1", 1) == [1]
    assert worker_counts(" 2 , 1 ", 4) == [1, 2]
    for bad in ("", "0", "3", "one"):
        with pytest.raises(BenchConfigError, match="--workers"):
            worker_counts(bad, 2)
    with pytest.raises(BenchConfigError, match="--parts"):
        validate_cad(CadOptions(parts=0), 2)
    with pytest.raises(BenchConfigError, match="--rounds"):
        validate_cad(CadOptions(rounds=11), 2)
    assert round_budget_s(20, 2, 60.0) == 600.0
    assert round_budget_s(2, 1, 5.0) == 40.0


def test_cli_flags_override_the_smoke_sizes() -> None:
    from benchmarks.cad.command import cad_options

    args = build_parser().parse_args(["cad", "--smoke", "--parts", "3"])
    assert cad_options(args) == CadOptions(parts=3, workers="1", rounds=1)
    assert cad_options(build_parser().parse_args(["cad"])) == CadOptions()


def _job(temp_id: str, latency: float, ok: bool = True) -> JobSample:
    return JobSample(
        temp_id,
        "plate",
        ok,
        latency,
        service_s=0.01 if ok else None,
        load_s=0.0,
        reason=None if ok else "boom",
    )


def test_summary_and_speed_up_by_value() -> None:
    local = ModeResult(
        workers=None,
        parts=4,
        cold_start_s=2.0,
        rounds=[RoundResult(0, 0.4, [_job(f"p{i}", 0.1 * (i + 1)) for i in range(4)])],
    )
    one = ModeResult(
        workers=1,
        parts=4,
        cluster="own",
        cluster_cpus=1,
        ray_start_s=3.0,
        cold_start_s=2.5,
        rounds=[RoundResult(0, 0.6, [_job(f"p{i}", 0.15 * (i + 1)) for i in range(4)])],
    )
    two = ModeResult(
        workers=2,
        parts=4,
        cluster="own",
        cluster_cpus=2,
        ray_start_s=3.0,
        cold_start_s=2.6,
        rounds=[RoundResult(0, 0.4, [*(_job(f"p{i}", 0.2) for i in range(3)), _job("p3", 0.4, False)])],
    )
    summary = summarize([local, one, two])
    assert list(summary) == ["in-process", "ray-1", "ray-2"]
    assert summary["in-process"]["jobs_per_min"] == pytest.approx(600.0)
    assert summary["ray-1"]["jobs_per_min"] == pytest.approx(400.0)
    assert summary["ray-2"]["jobs_per_min"] == pytest.approx(450.0)  # 3 done in 0.4 s
    assert summary["ray-2"]["failed"] == 1
    assert summary["ray-2"]["failure_reasons"] == ["boom"]
    assert summary["ray-1"]["latency_p50_ms"] == pytest.approx(375.0)
    assert summary["ray-1"]["latency_p99_ms"] == pytest.approx(595.5)  # 450 + 0.97 × 150
    ratios = compare(summary)
    assert ratios["speed_up"] == pytest.approx(450 / 400)
    assert ratios["speed_up_workers"] == 2
    assert ratios["ray_1_vs_in_process"] == pytest.approx(400 / 600)
    assert ratios["ray_overhead_ms_per_job"] == pytest.approx(50.0)
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.99) == 3.0
    failed = ModeResult(workers=1, parts=4, error="RayError: no")
    assert summarize([failed])["ray-1"]["failed"] == 4  # parts asked for and not done


@pytest.mark.integration
def test_smoke_on_the_suites_ray(ray_cluster: None, tmp_path: Path) -> None:
    from benchmarks.cad.run import run_cad

    seen: list[int] = []
    results = run_cad(SMOKE_CAD, on_mode=lambda partial: seen.append(len(partial.modes)))
    assert seen == [1, 2]
    assert [mode.key for mode in results.modes] == ["in-process", "ray-1"]
    for mode in results.modes:
        assert mode.error is None
        (round_,) = mode.rounds
        assert (round_.done, round_.failed) == (SMOKE_CAD.parts, 0), [j.reason for j in round_.jobs]
        assert {job.temp_id for job in round_.jobs} == {n["tempId"] for n in bom(SMOKE_CAD.parts)}
        assert all(job.service_s is not None for job in round_.jobs)
    ray_mode = results.modes[1]
    assert ray_mode.cluster == "reused"
    assert ray_mode.ray_start_s is None
    assert len(ray_mode.warm_up_s) == 1

    written = write_report(results, tmp_path)
    assert {p.name for p in written.values()} == {"results.json", "report.md", "cad_throughput.png"}
    data = orjson.loads(written["json"].read_bytes())
    assert data["kind"] == "cad"
    assert [entry["done"] for entry in data["summary"].values()] == [2, 2]
    assert [entry["failed"] for entry in data["summary"].values()] == [0, 0]
    again = load_results(written["json"])
    assert isinstance(again, CadResults)
    assert render_markdown(again, ("cad_throughput.png",)) == (written["markdown"].read_text())
