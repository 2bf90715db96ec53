"""``python -m benchmarks cad``: its flags and its run, for ``benchmarks.cli``."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ..config import BenchConfigError
from ..progress import RichJobProgress
from .options import MAX_PARTS, MAX_ROUNDS, SMOKE_CAD, CadOptions, validate_cad

__all__ = ["add_cad_parser", "cad_options", "run_cad_command"]

HELP = "CAD jobs per minute for a BOM: in process, then on a local Ray with 1 and all workers"


def add_cad_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``cad`` sub-command on ``sub`` (argparse's sub-parsers action)."""
    parser: argparse.ArgumentParser = sub.add_parser("cad", help=HELP, description=HELP)
    defaults = CadOptions()
    group = parser.add_argument_group("cad sizes")
    group.add_argument(
        "--parts", type=int, help=f"parts in the BOM, 1..{MAX_PARTS} (default {defaults.parts})"
    )
    group.add_argument(
        "--workers",
        help=f"Ray worker counts, comma-separated; 'all' = every core (default {defaults.workers})",
    )
    group.add_argument("--rounds", type=int, help=f"BOM submissions per mode, 1..{MAX_ROUNDS} (default 1)")
    group.add_argument(
        "--job-timeout", dest="job_timeout_s", type=float, help="seconds per job, as CadLimits (default 60)"
    )
    parser.add_argument("--smoke", action="store_true", help="2 parts, 1 worker: a quick end-to-end check")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results/cad-<time>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    return parser


def cad_options(args: argparse.Namespace) -> CadOptions:
    """The options: the smoke or default sizes, with every flag given on top."""
    base = SMOKE_CAD if args.smoke else CadOptions()
    given = {name: getattr(args, name) for name in ("parts", "workers", "rounds", "job_timeout_s")}
    return replace(base, **{k: v for k, v in given.items() if v is not None})


def run_cad_command(args: argparse.Namespace, results_dir: Path) -> int:
    from .report import write_json, write_report
    from .run import planned_jobs, run_cad

    cpus = psutil.cpu_count(logical=True) or 1
    try:
        options = cad_options(args)
        counts = validate_cad(options, cpus)
    except BenchConfigError as exc:
        print(f"python -m benchmarks cad: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out is not None else results_dir / f"cad-{stamp}"
    # Ray's own loggers are chatty at start and stop; the bars say what is happening.
    logging.getLogger("ray").setLevel(logging.WARNING)

    def checkpoint(partial: Any) -> None:
        write_json(partial, out)  # a crash mid-way still leaves every finished mode on disk

    if args.quiet:
        results = run_cad(options, cpus=cpus, on_mode=checkpoint)
    else:
        with RichJobProgress(planned_jobs(options, counts)) as progress:
            results = run_cad(options, progress=progress, cpus=cpus, on_mode=checkpoint)
    written = write_report(results, out)
    print(written["markdown"].read_text())
    print(f"results: {out}", file=sys.stderr)
    return 0 if all(mode.error is None for mode in results.modes) else 1
