"""Scenario sizes are bounded; bad ones are refused naming the option."""

from __future__ import annotations

import pytest

from benchmarks.cli import SMOKE, build_parser, main
from benchmarks.config import (
    BenchConfigError,
    FanoutOptions,
    RestOpsOptions,
    RunOptions,
    SaturateOptions,
    SessionsOptions,
    saturate_rates,
    validate,
)


def test_defaults_and_smoke_sizes_are_valid() -> None:
    for options in (FanoutOptions(), SaturateOptions(), SessionsOptions(), RestOpsOptions(), *SMOKE.values()):
        validate(options, RunOptions())


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
        (SessionsOptions(sessions=0), RunOptions(), "sessions"),
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


def test_cli_builds_options_from_prefixed_flags() -> None:
    args = build_parser().parse_args(
        ["compare", "--scenarios", "fanout,sessions", "--clients", "7", "--sessions-sessions", "4", "--smoke"]
    )
    from benchmarks.cli import _scenarios

    chosen = dict(_scenarios(args))
    assert chosen["fanout"] == FanoutOptions(clients=7, rate=5.0, duration=2.0)
    assert chosen["sessions"] == SessionsOptions(sessions=4, concurrency=2)


def test_cli_refuses_unknown_targets_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fanout", "--targets", "nope", "--quiet"]) == 2
    assert "unknown nope" in capsys.readouterr().err
