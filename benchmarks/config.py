"""Scenario sizes and the hard bounds every run must stay within (pure).

Each scenario's options are a frozen dataclass whose fields carry their CLI help; the CLI
builds its flags from them (``--clients`` for ``fanout``, ``--fanout-clients`` for
``compare``). ``validate`` rejects sizes past the bounds before anything starts.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

__all__ = [
    "LIMITS",
    "REALTIME",
    "REALTIME_ROUNDS",
    "SCENARIOS",
    "BenchConfigError",
    "FanoutOptions",
    "Limits",
    "MixedOptions",
    "RestOpsOptions",
    "RoomsOptions",
    "RoomsSaturateOptions",
    "RunOptions",
    "RunsOptions",
    "SaturateOptions",
    "ScaleOptions",
    "ScenarioOptions",
    "SessionsOptions",
    "StagesOptions",
    "StagesRejoinOptions",
    "Stepped",
    "capped_sizes",
    "rounds_for",
    "saturate_rates",
    "scale_sizes",
    "scaled",
    "session_sizes",
    "validate",
]


class BenchConfigError(ValueError):
    """A size or option out of bounds; names the option."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"--{option.replace('_', '-')}: {problem}")
        self.option = option


@dataclass(frozen=True, slots=True)
class Limits:
    max_clients: int = 2000
    max_rate_per_client: float = 1000.0
    max_duration: float = 600.0
    max_total_updates: int = 2_000_000  # edits + ops of one run, all steps together
    max_sessions: int = 1000
    # Live sessions of a target that runs one server process per session (≈60 MiB each):
    # what 24 GiB shared with other work can hold.
    max_session_processes: int = 150
    max_agents: int = 200
    max_workers: int = 8
    max_steps: int = 40
    max_api_users: int = 200  # design-engine and workspace users of one run
    max_flows: int = 50  # design flows per stage user
    max_scale_sizes: int = 8


LIMITS = Limits()


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class FanoutOptions:
    clients: int = _opt(50, "editors in total")
    rate: float = _opt(10.0, "edits per second per editor")
    duration: float = _opt(10.0, "seconds of sending")
    room_size: int = _opt(0, "editors per document (0: all in one room)")

    def total_updates(self) -> int:
        return math.ceil(self.clients * self.rate * self.duration)


@dataclass(frozen=True, slots=True)
class SaturateOptions:
    clients: int = _opt(20, "editors in total")
    room_size: int = _opt(5, "editors per document")
    start_rate: float = _opt(200.0, "offered edits/s (all editors) of the first step")
    growth: float = _opt(1.5, "offered rate multiplier per step")
    max_rate: float = _opt(20000.0, "stop raising the rate here")
    step_duration: float = _opt(4.0, "seconds of sending per step")
    max_steps: int = _opt(12, "at most this many steps")
    p99_bound_ms: float = _opt(100.0, "a step is sustained while delivery p99 stays under this")

    def total_updates(self) -> int:
        return math.ceil(sum(saturate_rates(self)) * self.step_duration)


@dataclass(frozen=True, slots=True)
class RoomsSaturateOptions:
    """rooms at saturation: many rooms, the per-editor rate raised step by step (saturate's stepping)."""

    rooms: int = _opt(100, "documents, each with its own editors")
    editors: int = _opt(5, "editors per room")
    start_rate: float = _opt(2.0, "edits/s per editor of the first step")
    growth: float = _opt(1.5, "per-editor rate multiplier per step")
    max_rate: float = _opt(40.0, "stop raising the per-editor rate here")
    step_duration: float = _opt(4.0, "seconds of sending per step")
    max_steps: int = _opt(10, "at most this many steps")
    p99_bound_ms: float = _opt(100.0, "a step is sustained while delivery p99 stays under this")

    @property
    def clients(self) -> int:
        return self.rooms * self.editors

    def total_updates(self) -> int:
        return math.ceil(sum(saturate_rates(self)) * self.clients * self.step_duration)


@dataclass(frozen=True, slots=True)
class SessionsOptions:
    sessions: str = _opt("50,1000", "live-session sizes to grow through, ascending, comma-separated")
    concurrency: int = _opt(4, "activations in flight at once")
    isolated_max_sessions: int = _opt(
        100, "targets with one server process per session (atelier-isolated) stop at this many"
    )

    def total_updates(self) -> int:
        # Every live session edits once at each size.
        return sum(session_sizes(self))


@dataclass(frozen=True, slots=True)
class RoomsOptions:
    rooms: int = _opt(200, "documents, each with its own editors")
    editors: int = _opt(5, "editors per room")
    rate: float = _opt(1.0, "edits per second per editor")
    duration: float = _opt(15.0, "seconds of sending")

    @property
    def clients(self) -> int:
        return self.rooms * self.editors

    def total_updates(self) -> int:
        return math.ceil(self.clients * self.rate * self.duration)


@dataclass(frozen=True, slots=True)
class RestOpsOptions:
    editors: int = _opt(10, "editors connected to the session")
    editor_rate: float = _opt(2.0, "edits per second per editor")
    agents: int = _opt(10, "REST agents posting ops")
    agent_rate: float = _opt(5.0, "requests per second per agent (one set_prop op each)")
    duration: float = _opt(10.0, "seconds of sending")

    def total_updates(self) -> int:
        return math.ceil((self.editors * self.editor_rate + self.agents * self.agent_rate) * self.duration)


@dataclass(frozen=True, slots=True)
class StagesOptions:
    users: int = _opt(10, "users, each driving its own design session (requirements, then BOM)")
    flows: int = _opt(3, "design flows per user, back to back (create, 2 streamed stages, 2 confirms)")
    drop_after: int = _opt(
        0, "drop each stage stream after this many events and rejoin with Last-Event-ID (0: never)"
    )

    def total_updates(self) -> int:
        return self.users * self.flows * len(("requirements", "bom"))


@dataclass(frozen=True, slots=True)
class StagesRejoinOptions(StagesOptions):
    """The stages scenario with every stream dropped mid-stage and rejoined."""

    drop_after: int = _opt(
        3, "drop each stage stream after this many events and rejoin with Last-Event-ID (0: never)"
    )


@dataclass(frozen=True, slots=True)
class RunsOptions:
    users: int = _opt(10, "users, each with a project and a workspace session")
    rate: float = _opt(1.0, "runs per second per user (one in flight per session)")
    duration: float = _opt(10.0, "seconds of submitting")
    with_file: float = _opt(0.5, "fraction of users whose runs attach a READY file")

    def total_updates(self) -> int:
        return math.ceil(self.users * self.rate * self.duration)


@dataclass(frozen=True, slots=True)
class MixedOptions:
    duration: float = _opt(10.0, "seconds of load")
    editors: int = _opt(20, "browser editors (WebSocket), in rooms of --room-size")
    room_size: int = _opt(5, "editors per document")
    editor_rate: float = _opt(2.0, "edits per second per editor")
    agents: int = _opt(4, "REST agents posting ops to the first documents")
    agent_rate: float = _opt(2.0, "ops per second per agent")
    stage_users: int = _opt(4, "users driving design flows back to back")
    run_users: int = _opt(4, "users submitting workspace runs")
    run_rate: float = _opt(1.0, "runs per second per run user")

    def total_updates(self) -> int:
        per_s = (
            self.editors * self.editor_rate + self.agents * self.agent_rate + self.run_users * self.run_rate
        )
        return math.ceil(per_s * self.duration)


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    scenario: str = _opt("rooms", "the scenario repeated at each size")
    param: str = _opt(
        "rooms",
        "its option that grows (rooms: rooms|editors, fanout: clients, "
        "sessions: sessions, stages: users, runs: users)",
    )
    sizes: str = _opt("10,25,50", "sizes, ascending, comma-separated")
    duration: float = _opt(5.0, "seconds of load at each size (for scenarios with a duration)")

    def total_updates(self) -> int:
        return sum(int(o.total_updates()) for o in scaled(self, _default_options(self.scenario)))


ScenarioOptions = (
    FanoutOptions
    | SaturateOptions
    | RoomsSaturateOptions
    | SessionsOptions
    | RestOpsOptions
    | RoomsOptions
    | StagesOptions
    | RunsOptions
    | MixedOptions
    | ScaleOptions
)

SCENARIOS: dict[str, type[Any]] = {
    "fanout": FanoutOptions,
    "rooms": RoomsOptions,
    "saturate": SaturateOptions,
    "rooms-saturate": RoomsSaturateOptions,
    "sessions": SessionsOptions,
    "rest-ops": RestOpsOptions,
    "stages": StagesOptions,
    "stages-rejoin": StagesRejoinOptions,
    "runs": RunsOptions,
    "mixed": MixedOptions,
    "scale": ScaleOptions,
}


# The scenarios of the realtime path (WebSocket editors): what a change to it reruns, what
# ``--compress both`` doubles, and what compare runs for at least REALTIME_ROUNDS rounds.
REALTIME = ("fanout", "rooms", "rooms-saturate", "saturate", "sessions")
REALTIME_ROUNDS = 3


def _default_options(scenario: str) -> Any:
    if scenario not in SCENARIOS or scenario == "scale":
        raise BenchConfigError(
            "scenario", f"unknown {scenario!r} (known: {', '.join(s for s in SCENARIOS if s != 'scale')})"
        )
    return SCENARIOS[scenario]()


def scale_sizes(options: ScaleOptions) -> list[int]:
    """The sizes of a scale run, parsed from ``"10,25,50"``; raises BenchConfigError (pure)."""
    try:
        sizes = [int(part) for part in options.sizes.split(",") if part.strip()]
    except ValueError:
        raise BenchConfigError("sizes", f"expected sizes like 10,25,50, got {options.sizes!r}") from None
    if not sizes or any(later <= earlier for earlier, later in itertools.pairwise(sizes)):
        raise BenchConfigError("sizes", f"name ascending sizes, got {options.sizes!r}")
    if sizes[0] < 1:
        raise BenchConfigError("sizes", "must be >= 1")
    return sizes


def scaled(options: ScaleOptions, base: Any) -> list[Any]:
    """``base`` at every size of ``options`` (its ``param`` set to the size; pure)."""
    if not hasattr(base, options.param) or options.param in ("duration", "rate"):
        known = [f.name for f in fields(base) if isinstance(getattr(base, f.name), (int, str))]
        raise BenchConfigError(
            "param", f"{options.scenario} has no size {options.param!r} (known: {', '.join(known)})"
        )
    current = getattr(base, options.param)
    result = []
    for size in scale_sizes(options):
        value: Any = str(size) if isinstance(current, str) else type(current)(size)
        changes: dict[str, Any] = {options.param: value}
        if hasattr(base, "duration"):
            changes["duration"] = options.duration
        result.append(replace(base, **changes))
    return result


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What applies to every scenario of a run."""

    targets: tuple[str, ...] = ("atelier", "hocuspocus", "pycrdt", "relay")
    repeats: int = 1
    realtime_repeats: int = 0  # rounds of the REALTIME scenarios (0: ``repeats``)
    workers: int = 1
    protocol: str = "auto"  # auto | hocuspocus | y-websocket (where the target speaks it)
    drain_timeout: float = 10.0
    connect_timeout: float = 60.0
    compress: bool = False  # offer permessage-deflate as browsers do
    # --compress both: every REALTIME scenario runs without and with the offer, side by side.
    compress_both: bool = False
    quiet: bool = False
    # A running server instead of managed ones (--url), its token (or a command printing one).
    url: str = ""
    server_kind: str = "atelier"  # atelier | hocuspocus | y-websocket
    token: str = ""
    token_command: str = ""
    # Load workers as Ray actors spread over an existing cluster's nodes (--ray-address).
    ray_address: str = ""
    ray_cpus_per_worker: float = 1.0


def rounds_for(scenario: str, run: RunOptions) -> int:
    """How many rounds ``scenario`` runs for (pure): realtime ones may be given more."""
    if scenario in REALTIME and run.realtime_repeats:
        return run.realtime_repeats
    return run.repeats


class Stepped(Protocol):
    """Options that raise a rate step by step (saturate, rooms-saturate)."""

    @property
    def start_rate(self) -> float: ...
    @property
    def growth(self) -> float: ...
    @property
    def max_rate(self) -> float: ...
    @property
    def max_steps(self) -> int: ...


def saturate_rates(options: Stepped) -> list[float]:
    """The rates of the steps: start, start·growth, … up to max_rate and max_steps (pure)."""
    rates: list[float] = []
    rate = options.start_rate
    while len(rates) < options.max_steps and rate <= options.max_rate * (1 + 1e-9):
        rates.append(rate)
        rate *= options.growth
    return rates


def session_sizes(options: SessionsOptions) -> list[int]:
    """The sizes of a sessions run, parsed from ``"50,1000"``; raises BenchConfigError (pure)."""
    try:
        sizes = [int(part) for part in options.sessions.split(",") if part.strip()]
    except ValueError:
        raise BenchConfigError("sessions", f"expected sizes like 50,1000, got {options.sessions!r}") from None
    if not sizes:
        raise BenchConfigError("sessions", "name at least one size")
    if any(later <= earlier for earlier, later in itertools.pairwise(sizes)):
        raise BenchConfigError("sessions", f"sizes must be ascending, got {options.sessions!r}")
    return sizes


def capped_sizes(sizes: list[int], cap: int) -> list[int]:
    """``sizes`` up to ``cap``, ending at ``cap`` when a larger size was cut (pure)."""
    kept = [size for size in sizes if size <= cap]
    if len(kept) < len(sizes) and (not kept or kept[-1] < cap):
        kept.append(cap)
    return kept


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise BenchConfigError(name, "must be > 0")


def _stepping(options: Stepped, step_duration: float, p99_bound_ms: float, limits: Limits) -> None:
    _positive("start_rate", options.start_rate)
    if options.growth <= 1:
        raise BenchConfigError("growth", "must be > 1")
    if options.max_rate < options.start_rate:
        raise BenchConfigError("max_rate", "must be >= start_rate")
    _duration("step_duration", step_duration, limits)
    if not 1 <= options.max_steps <= limits.max_steps:
        raise BenchConfigError("max_steps", f"must be within 1..{limits.max_steps}")
    _positive("p99_bound_ms", p99_bound_ms)


def _room_sizes(rooms: int, editors: int, limits: Limits) -> None:
    if rooms < 1:
        raise BenchConfigError("rooms", "must be >= 1")
    if editors < 2:
        raise BenchConfigError("editors", "a room needs at least 2 editors to measure delivery")
    if rooms * editors > limits.max_clients:
        raise BenchConfigError("rooms", f"{rooms * editors} editors in all is over {limits.max_clients}")


def validate(options: ScenarioOptions, run: RunOptions, limits: Limits = LIMITS, scenario: str = "") -> None:
    """Raise BenchConfigError for sizes that are meaningless or past the hard bounds."""
    if not 1 <= run.repeats <= 20 or not 0 <= run.realtime_repeats <= 20:
        raise BenchConfigError("repeats", "must be within 1..20")
    if not 1 <= run.workers <= limits.max_workers:
        raise BenchConfigError("workers", f"must be within 1..{limits.max_workers}")
    for name in ("drain_timeout", "connect_timeout"):
        _positive(name, getattr(run, name))
    if isinstance(options, FanoutOptions):
        _clients(options.clients, limits)
        _rate("rate", options.rate, limits)
        _duration("duration", options.duration, limits)
        if options.room_size < 0:
            raise BenchConfigError("room_size", "must be >= 0")
        if options.room_size == 1 or (options.clients < 2 and options.room_size != 0):
            raise BenchConfigError("room_size", "a room needs at least 2 editors to measure delivery")
        if options.clients < 2:
            raise BenchConfigError("clients", "fanout needs at least 2 editors")
    elif isinstance(options, SaturateOptions):
        _clients(options.clients, limits)
        if options.room_size < 2:
            raise BenchConfigError("room_size", "must be >= 2")
        _stepping(options, options.step_duration, options.p99_bound_ms, limits)
        if options.max_rate / options.clients > limits.max_rate_per_client:
            raise BenchConfigError("max_rate", f"over {limits.max_rate_per_client:g} edits/s per editor")
    elif isinstance(options, RoomsSaturateOptions):
        _room_sizes(options.rooms, options.editors, limits)
        _stepping(options, options.step_duration, options.p99_bound_ms, limits)
        _rate("max_rate", options.max_rate, limits)
    elif isinstance(options, RoomsOptions):
        _room_sizes(options.rooms, options.editors, limits)
        _rate("rate", options.rate, limits)
        _duration("duration", options.duration, limits)
    elif isinstance(options, SessionsOptions):
        sizes = session_sizes(options)
        if sizes[0] < 1 or sizes[-1] > limits.max_sessions:
            raise BenchConfigError("sessions", f"sizes must be within 1..{limits.max_sessions}")
        if not 1 <= options.concurrency <= 64:
            raise BenchConfigError("concurrency", "must be within 1..64")
        if not 1 <= options.isolated_max_sessions <= limits.max_session_processes:
            raise BenchConfigError(
                "isolated_max_sessions", f"must be within 1..{limits.max_session_processes}"
            )
    elif isinstance(options, RestOpsOptions):
        _clients(options.editors, limits, name="editors")
        if not 1 <= options.agents <= limits.max_agents:
            raise BenchConfigError("agents", f"must be within 1..{limits.max_agents}")
        _rate("editor_rate", options.editor_rate, limits, allow_zero=True)
        _rate("agent_rate", options.agent_rate, limits)
        _duration("duration", options.duration, limits)
    elif isinstance(options, (StagesOptions, RunsOptions, MixedOptions, ScaleOptions)):
        _validate_api(options, run, limits)
    if run.ray_address and not 0 < run.ray_cpus_per_worker <= 64:
        raise BenchConfigError("ray_cpus_per_worker", "must be within (0, 64]")
    if run.url and not run.url.startswith(("http://", "https://")):
        raise BenchConfigError("url", f"expected http(s)://host:port, got {run.url!r}")
    if run.server_kind not in ("atelier", "hocuspocus", "y-websocket"):
        raise BenchConfigError("server_kind", "must be atelier, hocuspocus or y-websocket")
    rounds = rounds_for(scenario, run) if scenario else max(run.repeats, run.realtime_repeats)
    total = 0 if isinstance(options, ScaleOptions) else options.total_updates() * rounds
    if total > limits.max_total_updates:
        raise BenchConfigError(
            "duration", f"{total} edits in total is over the bound of {limits.max_total_updates}"
        )


def _users(name: str, value: int, limits: Limits, minimum: int = 1) -> None:
    if not minimum <= value <= limits.max_api_users:
        raise BenchConfigError(name, f"must be within {minimum}..{limits.max_api_users}")


def _validate_api(
    options: StagesOptions | RunsOptions | MixedOptions | ScaleOptions, run: RunOptions, limits: Limits
) -> None:
    if isinstance(options, StagesOptions):
        _users("users", options.users, limits)
        if not 1 <= options.flows <= limits.max_flows:
            raise BenchConfigError("flows", f"must be within 1..{limits.max_flows}")
        if not 0 <= options.drop_after <= 1000:
            raise BenchConfigError("drop_after", "must be within 0..1000")
    elif isinstance(options, RunsOptions):
        _users("users", options.users, limits)
        _rate("rate", options.rate, limits)
        _duration("duration", options.duration, limits)
        if not 0 <= options.with_file <= 1:
            raise BenchConfigError("with_file", "must be within 0..1")
    elif isinstance(options, MixedOptions):
        _duration("duration", options.duration, limits)
        _clients(options.editors, limits, name="editors")
        if options.room_size < 2 or options.room_size > options.editors:
            raise BenchConfigError("room_size", "must be within 2..editors")
        _rate("editor_rate", options.editor_rate, limits, allow_zero=True)
        _users("agents", options.agents, limits, minimum=0)
        _rate("agent_rate", options.agent_rate, limits, allow_zero=True)
        _users("stage_users", options.stage_users, limits, minimum=0)
        _users("run_users", options.run_users, limits, minimum=0)
        _rate("run_rate", options.run_rate, limits, allow_zero=True)
    else:
        sizes = scale_sizes(options)
        if len(sizes) > limits.max_scale_sizes:
            raise BenchConfigError("sizes", f"at most {limits.max_scale_sizes} sizes")
        _duration("duration", options.duration, limits)
        _default_options(options.scenario)  # a known scenario; its sizes are checked once expanded


def _clients(value: int, limits: Limits, name: str = "clients") -> None:
    if not 1 <= value <= limits.max_clients:
        raise BenchConfigError(name, f"must be within 1..{limits.max_clients}")


def _rate(name: str, value: float, limits: Limits, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise BenchConfigError(name, "must be > 0")
    if value > limits.max_rate_per_client:
        raise BenchConfigError(name, f"must be at most {limits.max_rate_per_client:g}/s")


def _duration(name: str, value: float, limits: Limits) -> None:
    if not 0 < value <= limits.max_duration:
        raise BenchConfigError(name, f"must be within (0, {limits.max_duration:g}] seconds")


def option_fields(cls: type[Any]) -> list[tuple[str, Any, str]]:
    """(name, default, help) of a scenario options dataclass, for building CLI flags."""
    return [(f.name, f.default, str(f.metadata.get("help", ""))) for f in fields(cls)]
