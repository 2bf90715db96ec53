"""The profile command's sizes and bounds (pure): which scenarios, how long, how often, and
the scenario's load sized to outlast the recording."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import (
    LIMITS,
    BenchConfigError,
    FanoutOptions,
    RoomsOptions,
    RoomsSaturateOptions,
    SaturateOptions,
    ScenarioOptions,
)
from .stacks import TOP

__all__ = [
    "DEFAULT_DURATION",
    "DEFAULT_SAMPLE_RATE",
    "LOAD_MARGIN",
    "MAX_SAMPLE_RATE",
    "PROFILED",
    "PROFILE_SMOKE",
    "SMOKE_DURATION",
    "ProfileOptions",
    "load_for_profile",
    "validate_profile",
]

PROFILED = ("fanout", "saturate", "rooms", "rooms-saturate")
DEFAULT_DURATION = 10  # py-spy records whole seconds
SMOKE_DURATION = 3
DEFAULT_SAMPLE_RATE = 100
MAX_SAMPLE_RATE = 1000
# The load outlasts the recording by this much: py-spy attaches when the step is announced
# (the first edit goes out 0.5 s later) and takes a moment to start sampling.
LOAD_MARGIN = 2.0

# Small, but busy enough that every profiled process has CPU samples within a few seconds
# (only CPU time is sampled: an idle process gives an empty table). Durations and steps are
# set by ``load_for_profile``.
PROFILE_SMOKE: dict[str, ScenarioOptions] = {
    "fanout": FanoutOptions(clients=10, rate=20.0),
    "rooms": RoomsOptions(rooms=4, editors=3, rate=10.0),
    "saturate": SaturateOptions(clients=4, room_size=2, start_rate=200.0),
    "rooms-saturate": RoomsSaturateOptions(rooms=4, editors=3, start_rate=10.0),
}


@dataclass(frozen=True, slots=True)
class ProfileOptions:
    scenario: str = "fanout"
    duration: int = DEFAULT_DURATION  # seconds py-spy records each process
    sample_rate: int = DEFAULT_SAMPLE_RATE  # py-spy's --rate, samples per second
    top: int = TOP  # frames per table


def load_for_profile(options: ScenarioOptions, duration: float) -> ScenarioOptions:
    """The scenario's load, sized to outlast a ``duration`` s recording (pure).

    fanout and rooms send for ``duration`` plus a margin; saturate and rooms-saturate run one
    step at their start rate for as long (a profile of one load, not of a ramp whose later
    steps would go unrecorded).
    """
    seconds = duration + LOAD_MARGIN
    if isinstance(options, (FanoutOptions, RoomsOptions)):
        return replace(options, duration=seconds)
    if isinstance(options, (SaturateOptions, RoomsSaturateOptions)):
        return replace(options, step_duration=seconds, max_steps=1, max_rate=options.start_rate)
    raise BenchConfigError("scenario", f"{type(options).__name__} cannot be profiled")


def validate_profile(profile: ProfileOptions) -> None:
    """Raise BenchConfigError for a scenario, duration or rate the command does not take."""
    if profile.scenario not in PROFILED:
        raise BenchConfigError("scenario", f"unknown {profile.scenario!r} (known: {', '.join(PROFILED)})")
    if not 1 <= profile.duration <= LIMITS.max_duration:
        raise BenchConfigError("duration", f"must be within 1..{LIMITS.max_duration:g} seconds")
    if not 1 <= profile.sample_rate <= MAX_SAMPLE_RATE:
        raise BenchConfigError("sample_rate", f"must be within 1..{MAX_SAMPLE_RATE}")
    if not 1 <= profile.top <= 100:
        raise BenchConfigError("top", "must be within 1..100")
