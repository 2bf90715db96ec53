"""``python -m benchmarks``: one scenario, a full comparison, or a re-rendered report.

    python -m benchmarks fanout   [--clients 50 --rate 10 --duration 10 --room-size 0]
    python -m benchmarks rooms    [--rooms 200 --editors 5 --rate 1 --duration 15]
    python -m benchmarks saturate [--clients 20 --room-size 5 --start-rate 200 ...]
    python -m benchmarks rooms-saturate [--rooms 100 --editors 5 --start-rate 2 --growth 1.5 ...]
    python -m benchmarks sessions [--sessions 50,1000 --concurrency 4 --isolated-max-sessions 100]
    python -m benchmarks rest-ops [--editors 10 --agents 10 --agent-rate 5 ...]
    python -m benchmarks stages   [--users 10 --flows 3 --drop-after 0]     (stages-rejoin: --drop-after 3)
    python -m benchmarks runs     [--users 10 --rate 1 --duration 10 --with-file 0.5]
    python -m benchmarks mixed    [--editors 20 --agents 4 --stage-users 4 --run-users 4 ...]
    python -m benchmarks scale    [--scenario rooms --param rooms --sizes 10,25,50 --duration 5]
                                  [--rooms-editors 5 ... the scaled scenario's options, prefixed]
    python -m benchmarks compare  [--scenarios fanout,rooms,...,mixed,scale] [--repeats N]
                                  [--fanout-clients 50 ... any scenario option, prefixed]
                                  (3 rounds for the realtime scenarios, 2 for the others)
    python -m benchmarks history add RESULTS_DIR   (a row per commit in benchmarks/HISTORY.md)
    python -m benchmarks cad      [--parts 20 --workers 1,all --rounds 1 --smoke]
    python -m benchmarks memory   [--settle 10 --samples 3 --atelier-env KEY=VALUE]
    python -m benchmarks profile  [--scenario fanout|saturate|rooms|rooms-saturate --duration 10]
                                  [--sample-rate 100 --top 15 --out DIR --smoke]
                                  [--fanout-clients 50 ... the scenario's options, prefixed]
                                  (py-spy flame graphs and hot frames of the gateway, a session
                                  host and the store owner of a local atelier serve under load)
    python -m benchmarks report   RESULTS_DIR        (re-render report.md and plots)

Common options: --targets atelier,hocuspocus,pycrdt,relay (also atelier-isolated) --repeats N
--workers W --protocol auto|hocuspocus|y-websocket --out DIR --quiet --smoke
--compress [on|off|both] (offer permessage-deflate as Chrome does; both: each realtime scenario
without and with it, side by side)
--atelier-env KEY=VALUE; a running server instead: --url http(s)://host:port
[--server-kind atelier|hocuspocus|y-websocket] [--token T | --token-command 'atelier token --user bench'];
load workers as Ray actors on a cluster: --ray-address HOST:PORT [--ray-cpus-per-worker 1].
cad starts no servers and has its own: --parts --workers 1,all --rounds --job-timeout --out
--quiet --smoke. profile starts one local atelier serve and needs the py-spy executable
(pip install py-spy); its --duration is the recording's, and the load is sized to outlast it
(saturate and rooms-saturate: one step at their start rate).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .cad.command import add_cad_parser, run_cad_command
from .config import (
    REALTIME_ROUNDS,
    SCENARIOS,
    BenchConfigError,
    FanoutOptions,
    MixedOptions,
    RestOpsOptions,
    RoomsOptions,
    RoomsSaturateOptions,
    RunOptions,
    RunsOptions,
    SaturateOptions,
    ScaleOptions,
    ScenarioOptions,
    SessionsOptions,
    StagesOptions,
    StagesRejoinOptions,
    option_fields,
    scaled,
    validate,
)
from .memory import add_memory_parser, run_memory_command
from .profiling.options import (
    DEFAULT_DURATION,
    DEFAULT_SAMPLE_RATE,
    MAX_SAMPLE_RATE,
    PROFILE_SMOKE,
    PROFILED,
    SMOKE_DURATION,
    ProfileOptions,
    load_for_profile,
    validate_profile,
)
from .profiling.stacks import TOP
from .progress import RichProgress
from .runner import Comparison, expand, run_comparison
from .targets.servers import DEFAULT_TARGETS, TARGET_NAMES

__all__ = ["COMPARE", "SMOKE", "SMOKE_FANOUT", "SMOKE_ROOMS", "main"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
HISTORY_MD = Path(__file__).resolve().parent / "HISTORY.md"

# Tiny sizes that exercise every scenario in well under a minute per target.
SMOKE_FANOUT = FanoutOptions(clients=3, rate=5.0, duration=2.0)
SMOKE_ROOMS = RoomsOptions(rooms=4, editors=3, rate=2.0, duration=2.0)
SMOKE: dict[str, ScenarioOptions] = {
    "fanout": SMOKE_FANOUT,
    "rooms": SMOKE_ROOMS,
    "saturate": SaturateOptions(
        clients=4, room_size=2, start_rate=20.0, growth=2.0, max_rate=80.0, step_duration=1.0, max_steps=3
    ),
    "rooms-saturate": RoomsSaturateOptions(
        rooms=3, editors=2, start_rate=2.0, growth=2.0, max_rate=8.0, step_duration=1.0, max_steps=3
    ),
    "sessions": SessionsOptions(sessions="2,4", concurrency=2, isolated_max_sessions=3),
    "rest-ops": RestOpsOptions(editors=2, editor_rate=2.0, agents=2, agent_rate=2.0, duration=2.0),
    "stages": StagesOptions(users=2, flows=1),
    "stages-rejoin": StagesRejoinOptions(users=2, flows=1, drop_after=2),
    "runs": RunsOptions(users=2, rate=2.0, duration=2.0, with_file=0.5),
    "mixed": MixedOptions(
        duration=2.0,
        editors=4,
        room_size=2,
        editor_rate=2.0,
        agents=1,
        agent_rate=2.0,
        stage_users=1,
        run_users=1,
        run_rate=1.0,
    ),
    "scale": ScaleOptions(scenario="rooms", param="rooms", sizes="2,4", duration=2.0),
}
# What a smoke scale run scales (its scenario's own smoke size, at each scale size).
SMOKE_BASES: dict[str, ScenarioOptions] = {name: opts for name, opts in SMOKE.items() if name != "scale"}

# compare's sizes where they differ from a scenario's own defaults: what keeps the whole
# comparison (every scenario, every target, 3 rounds of the realtime ones) near an hour on 2 cores.
COMPARE: dict[str, ScenarioOptions] = {
    "rooms": RoomsOptions(rooms=100, editors=5, rate=1.0, duration=10.0),
    "stages": StagesOptions(users=4, flows=2),
    "stages-rejoin": StagesRejoinOptions(users=4, flows=2, drop_after=3),
    "runs": RunsOptions(users=4, rate=1.0, duration=10.0, with_file=0.5),
    "mixed": MixedOptions(duration=10.0, editors=20, room_size=5, stage_users=2, run_users=2),
    # rooms at 10, 25 and 50 (× 5 editors × 1/s, 5 s each): where each server bends on 2 cores.
    "scale": ScaleOptions(scenario="rooms", param="rooms", sizes="10,25,50", duration=5.0),
}


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _add_options(
    parser: argparse.ArgumentParser,
    cls: type[Any],
    prefix: str = "",
    base: ScenarioOptions | None = None,
    skip: Sequence[str] = (),
) -> None:
    group = parser.add_argument_group(f"{prefix.rstrip('-') or 'scenario'} sizes")
    for name, default, text in option_fields(cls):
        if name in skip:
            continue
        if base is not None:
            default = getattr(base, name)
        group.add_argument(
            f"--{prefix}{_flag(name)}",
            dest=f"{prefix}{name}".replace("-", "_"),
            type=type(default),
            default=None,
            metavar=type(default).__name__.upper(),
            help=f"{text} (default {default})",
        )


def _add_run_output(group: Any) -> None:
    """--quiet, --atelier-env and -v: what every command that starts atelier takes."""
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    group.add_argument(
        "--atelier-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for atelier serve (repeatable), e.g. DATABASE_URL=…",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="log at INFO")


def _add_common(parser: argparse.ArgumentParser, repeats: int | None) -> None:
    group = parser.add_argument_group("run")
    group.add_argument(
        "--targets",
        default=",".join(DEFAULT_TARGETS),
        help=f"comma-separated, from {', '.join(TARGET_NAMES)} (default %(default)s)",
    )
    rounds = (
        f"default {REALTIME_ROUNDS} for the realtime scenarios, 2 for the others"
        if repeats is None
        else f"default {repeats}"
    )
    group.add_argument("--repeats", type=int, default=repeats, help=f"rounds per target ({rounds})")
    group.add_argument("--workers", type=int, default=1, help="load worker processes (default 1)")
    group.add_argument(
        "--protocol",
        choices=["auto", "hocuspocus", "y-websocket"],
        default="auto",
        help="client protocol; auto = each target's native one (default)",
    )
    group.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<name>-<time>)")
    group.add_argument(
        "--drain-timeout", type=float, default=10.0, help="seconds to wait for late deliveries"
    )
    group.add_argument("--connect-timeout", type=float, default=60.0, help="seconds for all editors to sync")
    group.add_argument(
        "--compress",
        nargs="?",
        const="on",
        default="off",
        choices=["off", "on", "both"],
        help="offer permessage-deflate as Chrome does (on); both: each realtime scenario without and "
        "with it, side by side (default off)",
    )
    _add_run_output(group)
    remote = parser.add_argument_group("a running server (instead of starting the targets)")
    remote.add_argument(
        "--url", default="", help="http(s)://host:port of an atelier, Hocuspocus or y-websocket server"
    )
    remote.add_argument(
        "--server-kind",
        choices=["atelier", "hocuspocus", "y-websocket"],
        default="atelier",
        help="what runs at --url (default %(default)s); only atelier serves stages, runs, mixed, rest-ops",
    )
    remote.add_argument(
        "--token", default="", help="bearer token for --url (REST and the WebSocket Auth message)"
    )
    remote.add_argument(
        "--token-command", default="", help="a command printing the token, e.g. 'atelier token --user bench'"
    )
    ray_group = parser.add_argument_group("distributed load")
    ray_group.add_argument(
        "--ray-address", default="", help="run the load workers as Ray actors on this cluster"
    )
    ray_group.add_argument(
        "--ray-cpus-per-worker", type=float, default=1.0, help="CPUs each load actor reserves"
    )


# What profile sets itself: the load outlasts the recording (and a stepped scenario runs one step).
_PROFILE_SET = ("duration", "step_duration", "max_steps", "growth", "max_rate")


def _add_profile_parser(sub: Any) -> None:
    text = (
        "py-spy flame graphs and hot frames of a local atelier serve's gateway, a session host and "
        "the store owner while a scenario loads it"
    )
    profile = sub.add_parser("profile", help=text, description=text)
    profile.add_argument(
        "--scenario", choices=PROFILED, default="fanout", help="the load (default %(default)s)"
    )
    profile.add_argument(
        "--duration",
        type=int,
        help=f"seconds py-spy records each process (default {DEFAULT_DURATION}; "
        f"{SMOKE_DURATION} with --smoke)",
    )
    profile.add_argument(
        "--sample-rate",
        type=int,
        default=DEFAULT_SAMPLE_RATE,
        metavar="HZ",
        help=f"py-spy samples per second, 1..{MAX_SAMPLE_RATE} (default %(default)s)",
    )
    profile.add_argument("--top", type=int, default=TOP, help="frames per table (default %(default)s)")
    profile.add_argument("--smoke", action="store_true", help="small load, 3 s (a quick end-to-end check)")
    profile.add_argument(
        "--out", type=Path, help="results folder (default benchmarks/results/profile-<time>)"
    )
    _add_run_output(profile)
    for name in PROFILED:
        _add_options(profile, SCENARIOS[name], prefix=f"{name}-", skip=_PROFILE_SET)


def _profile(args: argparse.Namespace) -> int:
    from .profiling.command import run_profile_command

    duration = (
        args.duration if args.duration is not None else SMOKE_DURATION if args.smoke else DEFAULT_DURATION
    )
    profile = ProfileOptions(
        scenario=args.scenario, duration=duration, sample_rate=args.sample_rate, top=args.top
    )
    try:
        validate_profile(profile)
        cls = SCENARIOS[args.scenario]
        base = PROFILE_SMOKE[args.scenario] if args.smoke else cls()
        chosen = _options_from(args, cls, base, prefix=f"{args.scenario}-")
        load = load_for_profile(chosen, profile.duration)
        validate(load, RunOptions(targets=("atelier",)), scenario=args.scenario)
        env = _atelier_env(args.atelier_env)["atelier"]
    except BenchConfigError as exc:
        print(f"python -m benchmarks profile: {exc}", file=sys.stderr)
        return 2
    return run_profile_command(args.scenario, load, profile, _out_dir(args), env, quiet=args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, cls in SCENARIOS.items():
        scenario = sub.add_parser(name, help=f"run the {name} scenario against the targets")
        _add_options(scenario, cls)
        scenario.add_argument("--smoke", action="store_true", help="tiny sizes (a quick end-to-end check)")
        if name == "scale":
            for other, other_cls in SCENARIOS.items():
                if other != "scale":
                    _add_options(scenario, other_cls, prefix=f"{other}-", base=COMPARE.get(other))
        _add_common(scenario, repeats=1)
    compare = sub.add_parser("compare", help="run scenarios against all targets, alternating, and report")
    compare.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated (default %(default)s)"
    )
    compare.add_argument("--smoke", action="store_true", help="tiny sizes (a quick end-to-end check)")
    shorthand = compare.add_argument_group("fanout shorthands")
    shorthand.add_argument("--clients", type=int, help="= --fanout-clients")
    shorthand.add_argument("--rate", type=float, help="= --fanout-rate")
    shorthand.add_argument("--duration", type=float, help="= --fanout-duration")
    for name, cls in SCENARIOS.items():
        _add_options(compare, cls, prefix=f"{name}-", base=COMPARE.get(name))
    _add_common(compare, repeats=None)
    add_cad_parser(sub)
    history = sub.add_parser("history", help="keep one row per measured commit in benchmarks/HISTORY.md")
    history.add_argument("action", choices=["add"], help="add: append a results folder's headline row")
    history.add_argument("results", type=Path, help="a compare results folder (holding results.json)")
    history.add_argument("--file", type=Path, default=HISTORY_MD, help="default %(default)s")
    add_memory_parser(sub)
    _add_profile_parser(sub)
    report = sub.add_parser("report", help="re-render report.md and plots from a results folder")
    report.add_argument("results", type=Path, help="folder holding results.json")
    codec = sub.add_parser(
        "link-codec",
        help="encode + decode µs per link message: positional lists, typed candidates, as shipped",
    )
    codec.add_argument(
        "--iterations", type=int, default=20_000, help="round trips per timing (default %(default)s)"
    )
    codec.add_argument(
        "--repeats", type=int, default=5, help="timings per figure, median kept (default %(default)s)"
    )
    return parser


def _options_from(args: argparse.Namespace, cls: type[Any], base: Any, prefix: str = "") -> Any:
    changes = {}
    for f in fields(cls):
        value = getattr(args, f"{prefix}{f.name}".replace("-", "_"), None)
        if value is not None:
            changes[f.name] = value
    return replace(base, **changes)


def _run_options(args: argparse.Namespace) -> RunOptions:
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    if args.url:
        targets = ("remote",)
    unknown = [t for t in targets if t not in (*TARGET_NAMES, "remote")]
    if unknown:
        raise BenchConfigError("targets", f"unknown {', '.join(unknown)} (known: {', '.join(TARGET_NAMES)})")
    if not targets:
        raise BenchConfigError("targets", "name at least one")
    repeats, realtime = args.repeats, 0
    if repeats is None:  # compare's default: the realtime scenarios decide, so they get more rounds
        repeats, realtime = 2, REALTIME_ROUNDS
    return RunOptions(
        targets=targets,
        repeats=repeats,
        realtime_repeats=realtime,
        workers=args.workers,
        protocol=args.protocol,
        drain_timeout=args.drain_timeout,
        connect_timeout=args.connect_timeout,
        compress=args.compress == "on",
        compress_both=args.compress == "both",
        quiet=args.quiet,
        url=args.url,
        server_kind=args.server_kind,
        token=args.token,
        token_command=args.token_command,
        ray_address=args.ray_address,
        ray_cpus_per_worker=args.ray_cpus_per_worker,
    )


def _atelier_env(pairs: Sequence[str]) -> dict[str, dict[str, str]]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BenchConfigError("atelier_env", f"expected KEY=VALUE, got {pair!r}")
        env[key] = value
    return {"atelier": env, "atelier-isolated": env}


def _scale_bases(args: argparse.Namespace) -> dict[str, ScenarioOptions]:
    """What a scale run starts from, by scenario: compare's (or smoke) sizes and prefixed flags."""
    bases: dict[str, ScenarioOptions] = {}
    for name, cls in SCENARIOS.items():
        if name == "scale":
            continue
        base = SMOKE_BASES[name] if args.smoke else COMPARE.get(name) or cls()
        bases[name] = _options_from(args, cls, base, prefix=f"{name}-")
    return bases


def _scenarios(args: argparse.Namespace) -> list[tuple[str, ScenarioOptions]]:
    if args.command != "compare":
        cls = SCENARIOS[args.command]
        base = (
            SMOKE[args.command]
            if args.smoke
            else COMPARE.get(args.command)
            if args.command == "scale"
            else cls()
        )
        return [(args.command, _options_from(args, cls, base or cls()))]
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise BenchConfigError("scenarios", f"unknown {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    for short in ("clients", "rate", "duration"):
        if getattr(args, short) is not None and getattr(args, f"fanout_{short}") is None:
            setattr(args, f"fanout_{short}", getattr(args, short))
    chosen = []
    for name in names:
        base = SMOKE[name] if args.smoke else COMPARE.get(name) or SCENARIOS[name]()
        chosen.append((name, _options_from(args, SCENARIOS[name], base, prefix=f"{name}-")))
    return chosen


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return RESULTS_DIR / f"{args.command}-{stamp}"


async def _compare(
    scenarios: list[tuple[str, ScenarioOptions]],
    run: RunOptions,
    out: Path,
    env: dict[str, dict[str, str]],
    bases: dict[str, ScenarioOptions],
) -> Comparison:
    from .report.writer import write_json

    jobs = sum(len(expand(name, options, bases)) for name, options in scenarios)
    total = jobs * run.repeats * len(run.targets)

    def checkpoint(partial: Comparison) -> None:
        write_json(partial, out)  # a crash mid-way still leaves every finished run on disk

    if run.quiet:
        return await run_comparison(
            scenarios, run, out, target_env=env, on_result=checkpoint, scale_bases=bases
        )
    with RichProgress(total) as progress:
        return await run_comparison(
            scenarios, run, out, progress=progress, target_env=env, on_result=checkpoint, scale_bases=bases
        )


def _rerender_cad(folder: Path) -> bool:
    """Re-render a cad results folder; False when it holds a comparison instead."""
    from .cad.report import is_cad_results, load_results
    from .cad.report import write_report as write_cad_report

    path = folder / "results.json"
    if not is_cad_results(path):
        return False
    written = write_cad_report(load_results(path), folder)
    print(written["markdown"].read_text())
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    from .report.markdown import busy_banner
    from .report.writer import load_comparison, write_report

    if args.command == "cad":
        return run_cad_command(args, RESULTS_DIR)
    if args.command == "history":
        from .history import add_to_history

        try:
            print(add_to_history(args.results / "results.json", args.file))
        except (OSError, ValueError) as exc:
            print(f"python -m benchmarks history: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "memory":
        try:
            memory_env = _atelier_env(args.atelier_env)
        except BenchConfigError as exc:
            print(f"python -m benchmarks memory: {exc}", file=sys.stderr)
            return 2
        return run_memory_command(args, memory_env["atelier"])
    if args.command == "profile":
        return _profile(args)
    if args.command == "link-codec":
        from .linkcodec import measure, render

        if args.iterations < 1 or args.repeats < 1:
            print("python -m benchmarks link-codec: --iterations and --repeats must be ≥ 1", file=sys.stderr)
            return 2
        print(render(measure(args.iterations, args.repeats)))
        return 0
    if args.command == "report":
        if _rerender_cad(args.results):
            return 0
        comparison = load_comparison(args.results / "results.json")
        written = write_report(comparison, args.results)
        print(written["markdown"].read_text())
        return 0
    try:
        run = _run_options(args)
        scenarios = _scenarios(args)
        bases = _scale_bases(args) if args.command in ("compare", "scale") else {}
        for name, options in scenarios:
            validate(options, run, scenario=name)
            if isinstance(options, ScaleOptions):
                for sized in scaled(options, bases[options.scenario]):
                    validate(sized, run)
        env = _atelier_env(args.atelier_env)
    except BenchConfigError as exc:
        print(f"python -m benchmarks {args.command}: {exc}", file=sys.stderr)
        return 2
    out = _out_dir(args)
    comparison = asyncio.run(_compare(scenarios, run, out, env, bases))
    written = write_report(comparison, out)
    print(written["markdown"].read_text())
    print(f"results: {out}", file=sys.stderr)
    for line in busy_banner(comparison.meta):
        print(f"\n{'!' * 72}\n{line.lstrip('> ')}\n{'!' * 72}", file=sys.stderr)
    failed = [r for r in comparison.runs if r.status == "failed"]
    return 1 if failed and len(failed) == len(comparison.runs) else 0
