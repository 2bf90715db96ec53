"""Scenario sizes are bounded; bad ones are refused naming the option."""

from __future__ import annotations

import pytest

from benchmarks.cli import COMPARE, SMOKE, build_parser, main
from benchmarks.config import (
    BenchConfigError,
    FanoutOptions,
    RestOpsOptions,
    RoomsOptions,
    RunOptions,
    SaturateOptions,
    SessionsOptions,
    capped_sizes,
    saturate_rates,
    session_sizes,
    validate,
)
from benchmarks.scenarios.sessions import sizes_for


def test_defaults_and_smoke_sizes_are_valid() -> None:
    defaults = (FanoutOptions(), RoomsOptions(), SaturateOptions(), SessionsOptions(), RestOpsOptions())
    for options in (*defaults, *SMOKE.values(), *COMPARE.values()):
        validate(options, RunOptions())
    assert RoomsOptions().clients == 1000
    assert session_sizes(SessionsOptions()) == [50, 1000]


@pytest.mark.parametrize(
    ("options", "run", "option"),
    [
        (FanoutOptions(clients=5000), RunOptions(), "clients"),
        (FanoutOptions(clients=1), RunOptions(), "clients"),
        (FanoutOptions(rate=0), RunOptions(), "rate"),
        (FanoutOptions(rate=5000), RunOptions(), "rate"),
        (FanoutOptions(duration=3600), RunOptions(), "duration"),
        (FanoutOptions(room_size=1), RunOptions(), "room_size"),
        (FanoutOptions(clients=1000, rate=100, duration=100), RunOptions(), "duration"),
        (FanoutOptions(), RunOptions(workers=0), "workers"),
        (FanoutOptions(), RunOptions(repeats=0), "repeats"),
        (SaturateOptions(growth=1.0), RunOptions(), "growth"),
        (SaturateOptions(room_size=1), RunOptions(), "room_size"),
        (SaturateOptions(max_rate=10.0), RunOptions(), "max_rate"),
        (SaturateOptions(clients=2, max_rate=5000.0), RunOptions(), "max_rate"),
        (SessionsOptions(sessions="0"), RunOptions(), "sessions"),
        (SessionsOptions(sessions="50,2000"), RunOptions(), "sessions"),
        (SessionsOptions(sessions="100,50"), RunOptions(), "sessions"),
        (SessionsOptions(sessions="50,lots"), RunOptions(), "sessions"),
        (SessionsOptions(sessions=""), RunOptions(), "sessions"),
        (SessionsOptions(isolated_max_sessions=1000), RunOptions(), "isolated_max_sessions"),
        (RoomsOptions(editors=1), RunOptions(), "editors"),
        (RoomsOptions(rooms=0), RunOptions(), "rooms"),
        (RoomsOptions(rooms=500, editors=5), RunOptions(), "rooms"),
        (RoomsOptions(rate=0), RunOptions(), "rate"),
        (RoomsOptions(duration=0), RunOptions(), "duration"),
        (RestOpsOptions(agents=0), RunOptions(), "agents"),
    ],
)
def test_out_of_bounds_options_are_refused(options: object, run: RunOptions, option: str) -> None:
    with pytest.raises(BenchConfigError) as caught:
        validate(options, run)  # type: ignore[arg-type]
    assert caught.value.option == option


def test_saturate_rates_grow_geometrically_up_to_the_bounds() -> None:
    options = SaturateOptions(start_rate=100.0, growth=2.0, max_rate=1000.0, max_steps=10)
    assert saturate_rates(options) == [100.0, 200.0, 400.0, 800.0]
    assert len(saturate_rates(SaturateOptions(max_steps=3))) == 3


def test_session_sizes_are_capped_for_process_per_session_targets() -> None:
    options = SessionsOptions(sessions="50,1000", isolated_max_sessions=100)
    assert sizes_for(options, process_per_session=False) == [50, 1000]
    assert sizes_for(options, process_per_session=True) == [50, 100]
    assert capped_sizes([50, 100, 1000], 100) == [50, 100]
    assert capped_sizes([200, 1000], 100) == [100]
    assert capped_sizes([10, 20], 100) == [10, 20]
    assert SessionsOptions(sessions="50,1000").total_updates() == 1050  # one edit per live session per size


def test_cli_builds_options_from_prefixed_flags() -> None:
    args = build_parser().parse_args(
        ["compare", "--scenarios", "fanout,sessions", "--clients", "7", "--sessions-sessions", "4", "--smoke"]
    )
    from benchmarks.cli import _scenarios

    chosen = dict(_scenarios(args))
    assert chosen["fanout"] == FanoutOptions(clients=7, rate=5.0, duration=2.0)
    assert chosen["sessions"] == SessionsOptions(sessions="4", concurrency=2, isolated_max_sessions=3)


def test_compare_has_its_own_rooms_size_and_every_command_a_smoke_size() -> None:
    from benchmarks.cli import _scenarios

    chosen = dict(_scenarios(build_parser().parse_args(["compare", "--rooms-rooms", "50"])))
    assert list(chosen) == [
        "fanout",
        "rooms",
        "saturate",
        "rooms-saturate",
        "sessions",
        "rest-ops",
        "stages",
        "stages-rejoin",
        "runs",
        "mixed",
        "scale",
    ]
    assert chosen["rooms"] == RoomsOptions(rooms=50, editors=5, rate=1.0, duration=COMPARE["rooms"].duration)
    assert chosen["sessions"] == SessionsOptions()
    (single,) = _scenarios(build_parser().parse_args(["rooms", "--smoke", "--editors", "4"]))
    assert single == ("rooms", RoomsOptions(rooms=4, editors=4, rate=2.0, duration=2.0))
    (sessions,) = _scenarios(build_parser().parse_args(["sessions", "--sessions", "10,20"]))
    assert sessions == ("sessions", SessionsOptions(sessions="10,20"))


def test_cli_refuses_unknown_targets_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fanout", "--targets", "nope", "--quiet"]) == 2
    assert "unknown nope" in capsys.readouterr().err


def test_scale_sizes_and_scaled_options() -> None:
    from benchmarks.config import ScaleOptions, StagesOptions, scale_sizes, scaled

    scale = ScaleOptions(scenario="rooms", param="rooms", sizes="2, 4,8", duration=3.0)
    assert scale_sizes(scale) == [2, 4, 8]
    base = RoomsOptions(rooms=100, editors=5, rate=1.0, duration=10.0)
    assert scaled(scale, base) == [
        RoomsOptions(rooms=n, editors=5, rate=1.0, duration=3.0) for n in (2, 4, 8)
    ]
    stages = ScaleOptions(scenario="stages", param="users", sizes="1,3")
    assert scaled(stages, StagesOptions(flows=2)) == [
        StagesOptions(users=1, flows=2),
        StagesOptions(users=3, flows=2),
    ]
    sessions = ScaleOptions(scenario="sessions", param="sessions", sizes="10,20")
    assert [o.sessions for o in scaled(sessions, SessionsOptions())] == ["10", "20"]
    for bad in ("4,2", "", "0,1", "a"):
        with pytest.raises(BenchConfigError, match="--sizes"):
            scale_sizes(ScaleOptions(sizes=bad))
    with pytest.raises(BenchConfigError, match="--param"):
        scaled(ScaleOptions(param="nope"), base)
    with pytest.raises(BenchConfigError, match="--scenario"):
        validate(ScaleOptions(scenario="nope"), RunOptions())


def test_api_scenarios_are_bounded() -> None:
    from benchmarks.config import MixedOptions, RunsOptions, StagesOptions

    run = RunOptions()
    validate(StagesOptions(), run)
    validate(RunsOptions(), run)
    validate(MixedOptions(), run)
    for options, flag in (
        (StagesOptions(users=0), "--users"),
        (StagesOptions(users=201), "--users"),
        (StagesOptions(flows=51), "--flows"),
        (StagesOptions(drop_after=-1), "--drop-after"),
        (RunsOptions(with_file=1.5), "--with-file"),
        (RunsOptions(duration=601), "--duration"),
        (MixedOptions(room_size=1), "--room-size"),
        (MixedOptions(run_rate=-1), "--run-rate"),
    ):
        with pytest.raises(BenchConfigError, match=flag):
            validate(options, run)
    with pytest.raises(BenchConfigError, match="--url"):
        validate(StagesOptions(), RunOptions(url="ftp://x"))


def test_url_replaces_the_targets_and_scale_takes_prefixed_options() -> None:
    from benchmarks.cli import _run_options, _scale_bases, _scenarios
    from benchmarks.config import ScaleOptions

    args = build_parser().parse_args(
        ["fanout", "--url", "http://127.0.0.1:9", "--token", "t", "--targets", "relay"]
    )
    run = _run_options(args)
    assert (run.targets, run.url, run.token, run.server_kind) == (
        ("remote",),
        "http://127.0.0.1:9",
        "t",
        "atelier",
    )
    args = build_parser().parse_args(["scale", "--sizes", "5,10", "--rooms-editors", "3"])
    ((name, options),) = _scenarios(args)
    assert name == "scale"
    assert isinstance(options, ScaleOptions)
    assert options.sizes == "5,10"
    assert _scale_bases(args)["rooms"] == RoomsOptions(rooms=100, editors=3, rate=1.0, duration=10.0)
