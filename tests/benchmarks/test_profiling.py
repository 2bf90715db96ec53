"""`python -m benchmarks profile`'s pure parts: py-spy's raw stacks → hot frames, the load sized
for a recording, which processes are profiled, and profile.md; and the command's refusals."""

from __future__ import annotations

import pytest

from benchmarks.cli import main
from benchmarks.config import BenchConfigError, FanoutOptions, RoomsSaturateOptions, SaturateOptions
from benchmarks.profiling import pyspy
from benchmarks.profiling.options import (
    LOAD_MARGIN,
    ProfileOptions,
    load_for_profile,
    validate_profile,
)
from benchmarks.profiling.pyspy import GATEWAY, ROLE_LABELS, SESSION_HOST, STORE_OWNER, pick_processes
from benchmarks.profiling.report import ProcessReport, RunInfo, profile_markdown, result_line
from benchmarks.profiling.stacks import (
    NO_FRAME,
    Frame,
    StackFormatError,
    parse_frame,
    parse_raw,
    profile_of,
    shorten_path,
    top_frames,
)
from benchmarks.report.model import RunResult, RunStatus, StepResult
from benchmarks.stats import Histogram

REPO = "/work/atelier"
SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/root/.pyenv/versions/3.11.7/lib/python3.11"

MODULE = f"<module> ({REPO}/gateway/cli.py:1)"
LOOP = f"run_forever ({STDLIB}/asyncio/base_events.py:593)"
RUN = f"_run ({STDLIB}/asyncio/events.py:78)"
SEND = f"send_frame ({SITE}/aiohttp/_websocket/writer.py:74)"
DELIVER = f"_deliver ({REPO}/gateway/ws/channel.py:92)"
SELECT = f"select ({STDLIB}/selectors.py:451)"
WALK = f"walk ({REPO}/actors/core/spec_ops.py:10)"
# Four distinct stacks of a gateway-like process, 10 samples in all, and a blank line (py-spy
# --format raw --full-filenames --function: root first, one line per distinct stack).
RAW = "\n".join(
    [
        f"{MODULE};{LOOP};{RUN};{SEND} 4",
        f"{MODULE};{LOOP};{RUN};{DELIVER} 3",
        "",
        f"{MODULE};{LOOP};{SELECT} 2",
        f"{WALK};{WALK} 1",
    ]
)
NATIVE = " 2"  # a thread sampled with no Python frame


def test_paths_are_shortened_to_site_packages_the_repo_or_the_standard_library() -> None:
    assert shorten_path(f"{SITE}/aiohttp/web_ws.py", REPO) == "aiohttp/web_ws.py"
    assert shorten_path("/usr/lib/python3/dist-packages/yaml/x.py", REPO) == "yaml/x.py"
    assert shorten_path(f"{REPO}/gateway/ws/channel.py", REPO + "/") == "gateway/ws/channel.py"
    assert shorten_path(f"{STDLIB}/asyncio/events.py", REPO) == "asyncio/events.py"
    assert shorten_path("<frozen runpy>", REPO) == "<frozen runpy>"
    assert shorten_path("/elsewhere/tool.py", REPO) == "/elsewhere/tool.py"


def test_a_frame_is_function_file_and_line() -> None:
    frame = parse_frame(f"Link._dispatch ({REPO}/actors/link/link.py:202)", REPO)
    assert frame == Frame("Link._dispatch", "actors/link/link.py", 202)
    assert str(frame) == "Link._dispatch (actors/link/link.py:202)"
    assert parse_frame("_run_code (<frozen runpy>:65)") == Frame("_run_code", "<frozen runpy>", 65)
    # without a line number (py-spy --nolineno), and a frame with no file at all
    assert str(parse_frame(f"f ({SITE}/pkg/mod.py)", REPO)) == "f (pkg/mod.py)"
    assert str(parse_frame("native_call")) == "native_call"
    # a name with parentheses of its own keeps them: only the last " (" opens the location
    assert parse_frame("<lambda> (g) (x.py:3)") == Frame("<lambda> (g)", "x.py", 3)


def test_raw_lines_become_stacks_root_first() -> None:
    stacks = parse_raw(RAW, REPO)
    assert [count for _, count in stacks] == [4, 3, 2, 1]
    frames, _ = stacks[1]
    assert [str(f) for f in frames] == [
        "<module> (gateway/cli.py:1)",
        "run_forever (asyncio/base_events.py:593)",
        "_run (asyncio/events.py:78)",
        "_deliver (gateway/ws/channel.py:92)",
    ]


def test_a_malformed_line_is_named() -> None:
    with pytest.raises(StackFormatError) as caught:
        parse_raw("a (x.py:1) 3\nb (y.py:2) many\n")
    assert caught.value.line_number == 2
    with pytest.raises(StackFormatError):
        parse_raw("justonetoken\n")


def test_a_sample_without_python_frames_counts_under_its_own_name() -> None:
    profile = profile_of(RAW + "\n" + NATIVE, REPO)
    assert profile.samples == 12
    assert (str(profile.by_self[2].frame), profile.by_self[2].samples) == (NO_FRAME, 2)


def test_self_time_is_the_leaf_line_and_total_time_counts_each_function_once_per_sample() -> None:
    samples, by_self, by_total = top_frames(parse_raw(RAW, REPO))
    assert samples == 10
    assert [(str(r.frame), r.samples, r.percent) for r in by_self] == [
        ("send_frame (aiohttp/_websocket/writer.py:74)", 4, 40.0),
        ("_deliver (gateway/ws/channel.py:92)", 3, 30.0),
        ("select (selectors.py:451)", 2, 20.0),
        ("walk (actors/core/spec_ops.py:10)", 1, 10.0),
    ]
    total = {str(r.frame): r.samples for r in by_total}
    assert total["<module> (gateway/cli.py)"] == 9
    assert total["_run (asyncio/events.py)"] == 7
    assert total["walk (actors/core/spec_ops.py)"] == 1  # recursive: once per sample
    assert [r.samples for r in by_total] == sorted((r.samples for r in by_total), reverse=True)


def test_self_time_tells_lines_apart_and_total_time_merges_them() -> None:
    # aiosqlite's worker waiting for work (line 59) and running a statement in C (line 63)
    raw = "\n".join(
        [
            f"run ({STDLIB}/threading.py:975);worker ({SITE}/aiosqlite/core.py:59) 3",
            f"run ({STDLIB}/threading.py:975);worker ({SITE}/aiosqlite/core.py:63) 5",
        ]
    )
    profile = profile_of(raw, REPO)
    assert [(str(r.frame), r.samples) for r in profile.by_self] == [
        ("worker (aiosqlite/core.py:63)", 5),
        ("worker (aiosqlite/core.py:59)", 3),
    ]
    assert [(str(r.frame), r.percent) for r in profile.by_total] == [
        ("run (threading.py)", 100.0),
        ("worker (aiosqlite/core.py)", 100.0),
    ]


def test_top_keeps_the_hottest_and_an_empty_file_has_no_rows() -> None:
    profile = profile_of(RAW, REPO, top=2)
    assert profile.samples == 10
    assert [r.samples for r in profile.by_self] == [4, 3]
    assert [r.samples for r in profile.by_total] == [9, 9]  # <module> and run_forever, by name
    assert profile_of("", REPO).samples == 0
    assert profile_of("\n", REPO).by_self == []


def test_fanout_and_rooms_send_past_the_recording() -> None:
    load = load_for_profile(FanoutOptions(clients=50, rate=10.0, duration=10.0), 5)
    assert load == FanoutOptions(clients=50, rate=10.0, duration=5 + LOAD_MARGIN)


def test_a_stepped_scenario_runs_one_step_at_its_start_rate() -> None:
    load = load_for_profile(SaturateOptions(start_rate=30000.0), 7)
    assert isinstance(load, SaturateOptions)
    assert (load.max_steps, load.step_duration, load.start_rate) == (1, 7 + LOAD_MARGIN, 30000.0)
    assert load.max_rate == load.start_rate  # the only step (above the default ceiling too)
    rooms = load_for_profile(RoomsSaturateOptions(), 3)
    assert isinstance(rooms, RoomsSaturateOptions)
    assert rooms.max_steps == 1


@pytest.mark.parametrize(
    ("options", "flag"),
    [
        (ProfileOptions(scenario="sessions"), "--scenario"),
        (ProfileOptions(duration=0), "--duration"),
        (ProfileOptions(sample_rate=5000), "--sample-rate"),
        (ProfileOptions(top=0), "--top"),
    ],
)
def test_profile_options_out_of_bounds_are_refused(options: ProfileOptions, flag: str) -> None:
    with pytest.raises(BenchConfigError, match=flag):
        validate_profile(options)


def test_the_busiest_actor_of_each_kind_is_profiled() -> None:
    host, store = ROLE_LABELS[SESSION_HOST], ROLE_LABELS[STORE_OWNER]
    before = {10: ("python -m gateway.cli", 1.0), 21: (host, 5.0), 22: (host, 1.0), 30: (store, 2.0)}
    after = {
        10: ("python -m gateway.cli", 3.0),
        21: (host, 5.5),  # more CPU in all, less since the load began
        22: (host, 3.0),
        30: (store, 2.5),
        40: ("raylet", 9.0),
    }
    assert pick_processes(10, before, after) == {GATEWAY: 10, SESSION_HOST: 22, STORE_OWNER: 30}
    # a tie goes to the lowest pid; a role with no process is None
    tied = {21: (host, 1.0), 22: (host, 1.0)}
    assert pick_processes(99, {}, tied) == {GATEWAY: None, SESSION_HOST: 21, STORE_OWNER: None}


def test_the_labels_name_the_actor_classes() -> None:
    from actors.host.actor import SessionHost
    from actors.store.service import StoreService

    labels = {SESSION_HOST: f"ray::{SessionHost.__name__}", STORE_OWNER: f"ray::{StoreService.__name__}"}
    assert labels == ROLE_LABELS


def _result() -> RunResult:
    latency = Histogram()
    for value_us in (1000, 2000, 3000, 40000):
        latency.record(value_us)
    step = StepResult(
        step=0,
        offered_rate=500.0,
        duration=12.0,
        senders=50,
        sent=6000,
        expected=294000,
        delivered=294000,
        latency=latency,
        wall=12.0,
        server_cpu=0.8,
        client_cpu=0.7,
        process_cpu=[{"pid": 10, "label": "python -m gateway.cli", "cores": 0.41}],
    )
    return RunResult(
        "fanout",
        "atelier",
        0,
        steps=[step],
        extra={
            "server_cpu_by_process": {"python -m gateway.cli": 0.41, "ray::SessionHost": 0.3, "raylet": 0.0}
        },
    )


def test_the_result_line_names_rate_latency_and_cpu() -> None:
    line = result_line(_result())
    assert line.startswith("offered 500 edits/s, 24,500 deliveries/s, delivered 100.00 %, p50/p99 ")
    assert "0 errors" in line
    assert "server CPU 0.80 cores" in line
    failed = RunResult("fanout", "atelier", 0, status=RunStatus.FAILED, error="timed out after 90s")
    assert result_line(failed) == "**failed**: timed out after 90s"


def test_profile_md_has_the_header_and_a_table_per_process() -> None:
    info = RunInfo(
        scenario="fanout",
        options={"clients": 50, "rate": 10.0, "duration": 12.0, "room_size": 0},
        duration=10,
        sample_rate=100,
        py_spy="py-spy 0.4.3",
        started="2026-12-07T16:00:00+00:00",
        source={"commit": "abc123", "dirty": False},
        cpus=2,
        loadavg=0.5,
    )
    processes = [
        ProcessReport(
            GATEWAY, 10, profile_of(RAW, REPO), svg="gateway.svg", raw="gateway.raw.txt", cores=0.41
        ),
        ProcessReport(SESSION_HOST, 22, profile_of("", REPO), errors=("py-spy exited with 1: no samples",)),
        ProcessReport(STORE_OWNER, None, None),
    ]
    text = profile_markdown(info, _result(), processes)
    assert "- **commit**: `abc123`" in text
    assert "- **scenario**: fanout (clients=50, rate=10.0, duration=12.0, room_size=0)" in text
    assert "- **result**: offered 500 edits/s" in text
    assert (
        "server CPU by process** (cores over the step): python -m gateway.cli 0.41, ray::SessionHost 0.30\n"
        in text
    )
    gateway = text.split("## gateway (atelier serve), pid 10")[1].split("## ")[0]
    assert "10 CPU samples (≈0.01 of a core busy); 0.41 cores measured over the step" in gateway
    assert "| self | 1 | 40.0 | 4 | `send_frame (aiohttp/_websocket/writer.py:74)` |" in gateway
    assert "| total | 1 | 90.0 | 9 | `<module> (gateway/cli.py)` |" in gateway
    assert "[gateway.svg](gateway.svg)" in gateway
    host = text.split("## session host (ray::SessionHost), pid 22")[1].split("## ")[0]
    assert "- py-spy: py-spy exited with 1: no samples" in host
    assert "no CPU samples" in host
    assert "## store owner (ray::StoreService)\n\nnot found in the server's process tree" in text


def test_profile_without_py_spy_fails_naming_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pyspy.shutil, "which", lambda *args, **kwargs: None)
    assert main(["profile", "--smoke", "--quiet"]) == 2
    assert "pip install py-spy" in capsys.readouterr().err


def test_profile_refuses_bad_sizes_before_starting_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "--duration", "0", "--quiet"]) == 2
    assert "--duration" in capsys.readouterr().err
    assert main(["profile", "--scenario", "rooms", "--rooms-editors", "1", "--quiet"]) == 2
    assert "--editors" in capsys.readouterr().err
