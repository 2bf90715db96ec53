"""What makes a comparison decide, by value: stepping, rounds, spread, the busy-machine verdict,
the hosts' balance, compression both ways, and the history table."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web

from benchmarks.config import (
    LIMITS,
    BenchConfigError,
    RoomsSaturateOptions,
    RunOptions,
    SaturateOptions,
    rounds_for,
    saturate_rates,
    validate,
)
from benchmarks.history import append_row, headline, render_row
from benchmarks.loadgen.client import EditorClient
from benchmarks.loadgen.plan import ClientPlan
from benchmarks.loadgen.recorder import Recorder
from benchmarks.machine import busy_reasons, during
from benchmarks.report.markdown import busy_banner, load_worker_notes, render_markdown
from benchmarks.report.model import RunResult, StepResult
from benchmarks.report.summary import deflate_rows, ratios, spread, summarize
from benchmarks.runner import compress_variants
from benchmarks.scenarios.common import compression_note, process_cores
from benchmarks.scenarios.rooms_saturate import HOST_LABEL, host_balance
from benchmarks.stats import Histogram
from benchmarks.targets.host_probe import gcs_address
from benchmarks.wire import WireProtocol

CHROME_OFFER = "permessage-deflate; client_max_window_bits"


def _step(offered: float, latency_ms: tuple[float, ...] = (1.0, 2.0), **overrides: Any) -> StepResult:
    histogram = Histogram()
    for value in latency_ms:
        histogram.record(int(value * 1000))
    fields: dict[str, Any] = dict(
        step=0,
        offered_rate=offered,
        duration=1.0,
        senders=4,
        sent=int(offered),
        expected=len(latency_ms),
        delivered=len(latency_ms),
        latency=histogram,
        wall=1.0,
    )
    fields.update(overrides)
    return StepResult(**fields)


# --- stepping -------------------------------------------------------------------------------


def test_rooms_saturate_steps_the_per_editor_rate_as_saturate_steps_the_total() -> None:
    options = RoomsSaturateOptions(
        rooms=10, editors=5, start_rate=2.0, growth=2.0, max_rate=16.0, max_steps=10
    )
    assert saturate_rates(options) == [2.0, 4.0, 8.0, 16.0]
    assert saturate_rates(SaturateOptions(start_rate=2.0, growth=2.0, max_rate=16.0)) == [2.0, 4.0, 8.0, 16.0]
    assert saturate_rates(RoomsSaturateOptions(start_rate=1.0, growth=2.0, max_rate=100.0, max_steps=3)) == [
        1.0,
        2.0,
        4.0,
    ]
    # every editor at every step's rate for a step's duration
    assert options.total_updates() == (2 + 4 + 8 + 16) * 50 * 4


def test_rooms_saturate_sizes_are_bounded() -> None:
    run = RunOptions()
    validate(RoomsSaturateOptions(), run, scenario="rooms-saturate")
    with pytest.raises(BenchConfigError, match="editors"):
        validate(RoomsSaturateOptions(editors=1), run)
    with pytest.raises(BenchConfigError, match="rooms"):
        validate(RoomsSaturateOptions(rooms=LIMITS.max_clients, editors=2), run)
    with pytest.raises(BenchConfigError, match="growth"):
        validate(RoomsSaturateOptions(growth=1.0), run)
    with pytest.raises(BenchConfigError, match="max-rate"):
        validate(RoomsSaturateOptions(max_rate=LIMITS.max_rate_per_client * 2), run)


def test_realtime_scenarios_get_their_own_rounds() -> None:
    run = RunOptions(repeats=2, realtime_repeats=3)
    assert [rounds_for(s, run) for s in ("fanout", "rooms-saturate", "saturate", "stages", "runs")] == [
        3,
        3,
        3,
        2,
        2,
    ]
    assert rounds_for("fanout", RunOptions(repeats=1)) == 1
    with pytest.raises(BenchConfigError, match="edits in total"):
        # past the bound on total edits
        validate(
            RoomsSaturateOptions(rooms=200, editors=10, max_rate=500.0, max_steps=40),
            RunOptions(repeats=1, realtime_repeats=3),
            scenario="rooms-saturate",
        )


# --- spread, per-process CPU, hosts ---------------------------------------------------------


def test_spread_is_min_max_of_every_number_all_rounds_have() -> None:
    rounds = [{"p99": 4.0, "errors": 0, "status": "ok", "x": 1.0}, {"p99": 9.0, "errors": 2, "status": "ok"}]
    assert spread(rounds) == {"p99": (4.0, 9.0), "errors": (0, 2)}
    assert spread(rounds[:1]) == {}  # one round has no spread


def test_summary_reports_spread_over_rounds_beside_the_median() -> None:
    runs = [
        RunResult("fanout", "atelier", index, steps=[_step(100.0, latency_ms=(1.0, 2.0), server_cpu=cpu)])
        for index, cpu in enumerate((0.4, 0.5, 0.9))
    ]
    entry = summarize(runs)["fanout"]["atelier"]
    assert entry["server_cpu"] == pytest.approx(0.5)
    assert entry["spread"]["server_cpu"] == pytest.approx((0.4, 0.9))


def test_process_cores_is_per_pid_and_busiest_first() -> None:
    before = {1: ("python -m gateway.cli", 10.0), 2: (HOST_LABEL, 5.0), 3: (HOST_LABEL, 5.0)}
    after = {
        1: ("python -m gateway.cli", 11.0),
        2: (HOST_LABEL, 7.0),
        3: (HOST_LABEL, 5.5),
        4: (HOST_LABEL, 0.5),
    }
    rows = process_cores(before, after, elapsed=2.0)
    assert [(r["pid"], r["cores"]) for r in rows] == [(2, 1.0), (1, 0.5), (3, 0.25), (4, 0.25)]
    assert process_cores(before, after, elapsed=0.0) == []


def test_host_balance_joins_sessions_and_cores_by_pid() -> None:
    step = _step(
        100.0,
        process_cpu=[
            {"pid": 20, "label": HOST_LABEL, "cores": 0.6},
            {"pid": 21, "label": HOST_LABEL, "cores": 0.2},
            {"pid": 22, "label": HOST_LABEL, "cores": 0.1},
            {"pid": 5, "label": "raylet", "cores": 0.1},
        ],
    )
    hosts = [{"pid": 21, "name": "h1", "sessions": 30}, {"pid": 20, "name": "h0", "sessions": 70}]
    assert host_balance(hosts, step) == [
        {"pid": 20, "sessions": 70, "cores": 0.6},
        {"pid": 21, "sessions": 30, "cores": 0.2},
        {"pid": 22, "sessions": None, "cores": 0.1},  # a host the directory did not list
    ]
    assert host_balance(hosts, None)[0] == {"pid": 20, "sessions": 70, "cores": None}


def _rooms_saturate(target: str, best: float, balance: list[dict[str, Any]] | None = None) -> RunResult:
    extra: dict[str, Any] = {
        "max_sustained_rate": best,
        "max_sustained_per_editor": best / 4,
        "stop_reason": "x",
    }
    if balance is not None:
        extra["host_balance"] = balance
    return RunResult("rooms-saturate", target, 0, steps=[_step(best), _step(best * 2)], extra=extra)


def test_rooms_saturate_summary_and_report_show_the_hosts() -> None:
    balance = [{"pid": 20, "sessions": 70, "cores": 0.6}, {"pid": 21, "sessions": 30, "cores": 0.2}]
    runs = [_rooms_saturate("atelier", 400.0, balance), _rooms_saturate("hocuspocus", 200.0)]
    summary = summarize(runs)
    atelier = summary["rooms-saturate"]["atelier"]
    assert (atelier["max_sustained"], atelier["per_editor_at_max"]) == (400.0, 100.0)
    assert (atelier["hosts"], atelier["host_sessions"], atelier["host_cores"]) == (2, "30–70", "0.20–0.60")
    assert ratios(summary)["rooms-saturate"]["max_sustained"]["hocuspocus"] == pytest.approx(2.0)
    text = render_markdown(summary, ratios(summary), {"run": {"targets": ["atelier", "hocuspocus"]}})
    assert "## rooms-saturate" in text
    assert (
        "- atelier hosts (round 1): pid 20: 70 sessions, 0.60 cores; pid 21: 30 sessions, 0.20 cores" in text
    )


# --- compression ----------------------------------------------------------------------------


def test_compression_note_and_variants() -> None:
    assert compression_note(False, 10, 0)["negotiated"] == "n/a"
    assert compression_note(True, 10, 10)["negotiated"] == "yes"
    assert compression_note(True, 10, 0)["negotiated"] == "no"
    assert compression_note(True, 10, 4)["negotiated"] == "partly"
    both = RunOptions(compress_both=True)
    assert [(suffix, run.compress) for suffix, run in compress_variants("fanout", both)] == [
        ("", False),
        ("+deflate", True),
    ]
    assert [(suffix, run.compress) for suffix, run in compress_variants("stages", both)] == [("", False)]
    assert compress_variants("fanout", RunOptions(compress=True))[0][1].compress is True


def _with_cpu(scenario: str, target: str, cpu: float, negotiated: str | None) -> RunResult:
    extra = (
        {}
        if negotiated is None
        else {"compression": compression_note(True, 4, 4 if negotiated == "yes" else 0)}
    )
    return RunResult(scenario, target, 0, steps=[_step(100.0, server_cpu=cpu)], extra=extra)


def test_deflate_rows_set_both_ways_side_by_side() -> None:
    runs = [
        _with_cpu("fanout", "atelier", 0.5, None),
        _with_cpu("fanout+deflate", "atelier", 0.6, "yes"),
        _with_cpu("fanout", "hocuspocus", 0.2, None),
        _with_cpu("fanout+deflate", "hocuspocus", 0.2, "no"),
    ]
    summary = summarize(runs)
    rows = {(r["target"], r["metric"]): r for r in deflate_rows(summary)}
    assert rows["atelier", "server_cpu"]["ratio"] == pytest.approx(1.2)
    assert rows["atelier", "server_cpu"]["negotiated"] == "yes"
    assert rows["hocuspocus", "server_cpu"]["negotiated"] == "no"
    text = render_markdown(summary, ratios(summary), {"run": {"targets": ["atelier", "hocuspocus"]}})
    assert "## fanout+deflate" in text
    assert "permessage-deflate offered (as Chrome does): atelier agreed, Hocuspocus declined" in text
    assert "| fanout | atelier | server CPU (cores) | 0.50 | 0.60 | 1.20× | yes |" in text


async def _offer_server(accept: bool, seen: list[str]) -> tuple[web.AppRunner, int]:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        seen.append(request.headers.get("Sec-WebSocket-Extensions", ""))
        ws = web.WebSocketResponse(compress=accept)
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port)


@pytest.mark.parametrize(("accept", "agreed"), [(True, True), (False, False)])
async def test_client_offers_deflate_as_chrome_and_records_the_answer(accept: bool, agreed: bool) -> None:
    seen: list[str] = []
    runner, port = await _offer_server(accept, seen)
    try:
        async with aiohttp.ClientSession() as http:
            for compress in (False, True):
                plan = ClientPlan(0, 0, f"http://127.0.0.1:{port}/ws", "doc", WireProtocol.HOCUSPOCUS, 7)
                client = EditorClient(plan, http, Recorder())
                await client.connect(compress=compress, max_frame_bytes=1 << 20, wait_synced=False)
                assert client.compressed is (agreed and compress)
                await client.close()
    finally:
        await runner.cleanup()
    assert seen == ["", CHROME_OFFER]


# --- the busy machine -----------------------------------------------------------------------


def test_busy_reasons() -> None:
    quiet = {"before": {"loadavg": [0.3, 0.5, 0.6], "other_cpu": 0.02}, "during": during([0.05, 0.12], [0.4])}
    assert busy_reasons(quiet) == []
    assert busy_banner({"machine_load": quiet}) == []
    assert "other CPU 0.30" in busy_reasons({"before": {"loadavg": [0.3], "other_cpu": 0.3}})[0]
    assert "load average 2.10" in busy_reasons({"before": {"loadavg": [2.1], "other_cpu": 0.0}})[0]
    noisy = {"before": {"loadavg": [0.3], "other_cpu": 0.0}, "during": during([0.3, 0.5, 0.4], [1.0])}
    assert "during the steps" in busy_reasons(noisy)[0]
    (banner,) = busy_banner({"machine_load": noisy})
    assert banner.startswith("> **⚠ The machine was busy")
    assert during([], []) == {"other_cpu_median": None, "other_cpu_max": None, "loadavg_max": None}


def test_load_worker_notes_flag_a_load_generator_near_a_full_core() -> None:
    by_target = {"atelier": {"client_cpu": 0.92}, "hocuspocus": {"client_cpu": 0.5}}
    (blank, note) = load_worker_notes(by_target, ["atelier", "hocuspocus"], workers=1)
    assert blank == ""
    assert note.startswith("- ⚠ atelier")
    assert "0.92 of a core each" in note
    # Two workers share the load: 0.46 each is not saturated.
    assert load_worker_notes(by_target, ["atelier", "hocuspocus"], workers=2) == []
    # Saturation scenarios report the client CPU at the highest sustained step.
    assert load_worker_notes({"atelier": {"client_cpu_at_max": 0.85}}, ["atelier"], workers=1)
    assert load_worker_notes({"atelier": {"status": "failed"}}, ["atelier"], workers=1) == []


# --- history --------------------------------------------------------------------------------


def _results(busy: bool) -> dict[str, Any]:
    def ok(**figures: float) -> dict[str, Any]:
        return {"status": "ok", **figures}

    return {
        "meta": {
            "started": "2026-12-08T10:00:00+00:00",
            "atelier_source": {"commit": "abcdef1234567890", "changed_files": 0, "dirty": False},
            "run": {"repeats": 2, "realtime_repeats": 3},
            "machine_load": {"before": {"loadavg": [2.5 if busy else 0.2], "other_cpu": 0.01}},
        },
        "summary": {
            "fanout": {
                "atelier": ok(p99=6.0, server_cpu=0.6, deliveries_per_s=24000.0),
                "hocuspocus": ok(p99=4.0, server_cpu=0.2, deliveries_per_s=24000.0),
            },
            "fanout+deflate": {"atelier": ok(server_cpu=0.66)},
            "rooms": {"atelier": ok(p99=3.0), "hocuspocus": ok(p99=2.0)},
            "saturate": {"atelier": ok(max_sustained=9000.0), "hocuspocus": ok(max_sustained=7500.0)},
            "rooms-saturate": {"atelier": {"status": "failed"}, "hocuspocus": ok(max_sustained=5000.0)},
        },
    }


def test_history_row_has_the_headline_figures_and_ratios() -> None:
    figures = headline(_results(busy=False))
    assert figures["cpu_per_edit_ratio"] == pytest.approx(3.0)
    assert figures["saturate_ratio"] == pytest.approx(1.2)
    assert figures["deflate_cpu_ratio"] == pytest.approx(1.1)
    assert figures["rooms_saturate"] is None  # atelier failed there
    row = render_row(figures)
    assert row == (
        "| 2026-12-08 10:00 | `abcdef1234` | load 0.20, other 0.01 | 3 | 6.00 (1.50×) | 3.00 | "
        "3.00 (1.50×) | 9,000 (1.20×) | – | 1.10 |"
    )
    assert "**busy**" in render_row(headline(_results(busy=True)))


def test_history_table_is_created_once_and_grows_a_row_at_a_time() -> None:
    first = append_row("", "| row 1 |")
    assert first.startswith("# Benchmark history\n")
    assert first.count("| date | commit |") == 1
    assert first.endswith("| row 1 |\n")
    second = append_row(first, "| row 2 |")
    assert second == first + "| row 2 |\n"


def test_gcs_address_is_read_off_the_node_processes() -> None:
    node = [["/venv/raylet", "--node-ip-address=127.0.0.1", "--gcs-address=127.0.0.1:33071"]]
    assert gcs_address([["python", "-m", "gateway.cli", "serve"], *node]) == "127.0.0.1:33071"
    assert gcs_address([["node", "server.mjs"]]) is None
