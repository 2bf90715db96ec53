"""``python -m benchmarks memory``: PSS of an idle local ``atelier serve``, per process kind.

Starts ``atelier serve`` as the benchmarks do (local Ray, embedded SQLite, a temp data dir,
a free loopback port), waits until it says it is ready (``/health``'s ``ready``) and its
process tree has settled, then sums PSS (shared pages split fairly between the processes
that map them) per kind of process — the gateway, ``gcs_server``, ``raylet``, each Ray
actor class, idle Ray workers, Ray's Python helpers — and stops the server by its PID
(and whatever of its tree is left, by theirs).

    python -m benchmarks memory [--settle 10] [--samples 3] [--atelier-env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from .targets.process import ServerProcess, StartError, process_label
from .targets.servers import TARGETS, AtelierTarget

__all__ = ["KindUsage", "add_memory_parser", "by_kind", "memory_table", "run_memory_command"]

MIB = 1 << 20
HELP = "PSS of an idle local atelier serve, per process kind (gateway, Ray daemons, each actor)"
READY_TIMEOUT_S = 180.0


@dataclass(frozen=True, slots=True)
class KindUsage:
    kind: str
    processes: int
    pss: int
    rss: int


def _kind(process: psutil.Process, root_pid: int) -> str:
    if process.pid == root_pid:
        return "gateway (atelier serve)"
    label = process_label(process)
    # Ray's idle task workers are titled ``ray::IDLE``; a warm-up task's worker keeps its
    # function's name until it runs something else.
    return label.removeprefix("python ")


def by_kind(samples: Iterable[tuple[str, int, int]]) -> list[KindUsage]:
    """(kind, pss, rss) per process → one row per kind, largest PSS first (pure)."""
    totals: dict[str, list[int]] = {}
    for kind, pss, rss in samples:
        row = totals.setdefault(kind, [0, 0, 0])
        row[0] += 1
        row[1] += pss
        row[2] += rss
    rows = [KindUsage(kind, n, pss, rss) for kind, (n, pss, rss) in totals.items()]
    return sorted(rows, key=lambda r: (-r.pss, r.kind))


def memory_table(rows: Sequence[KindUsage]) -> str:
    """A Markdown table of the rows and their total (pure)."""
    lines = ["| process kind | processes | PSS MiB | RSS MiB |", "|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.kind} | {row.processes} | {row.pss / MIB:.1f} | {row.rss / MIB:.1f} |")
    lines.append(
        f"| **total** | {sum(r.processes for r in rows)} | **{sum(r.pss for r in rows) / MIB:.1f}** "
        f"| {sum(r.rss for r in rows) / MIB:.1f} |"
    )
    return "\n".join(lines)


def _sample(server: ServerProcess) -> list[tuple[str, int, int]]:
    root = server.pid or 0
    out: list[tuple[str, int, int]] = []
    for process in server.tree():
        try:
            info = process.memory_full_info()
            kind = _kind(process, root)
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        out.append((kind, int(getattr(info, "pss", info.rss)), int(info.rss)))
    return out


async def _wait_ready(base_url: str, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109 (a bounded wait naming what it last saw)
    """``/ready`` until it reports the warm-up done (or a server without the field)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while loop.time() < deadline:
            try:
                async with http.get(f"{base_url}/ready") as response:
                    last = await response.json()
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = {"error": repr(exc)}
            if last.get("ready", True) is True and "error" not in last:
                return last
            await asyncio.sleep(0.5)
    raise StartError(f"atelier not ready within {timeout:.0f}s: {last}")


async def _settled(server: ServerProcess, quiet_s: float, timeout: float) -> None:  # noqa: ASYNC109 (bounded)
    """Until the tree's set of processes has not changed for ``quiet_s`` (or ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = {p.pid for p in server.tree()}
    stable_since = loop.time()
    while loop.time() < deadline and loop.time() - stable_since < quiet_s:
        await asyncio.sleep(0.5)
        now = {p.pid for p in server.tree()}
        if now != seen:
            seen, stable_since = now, loop.time()


async def measure(env: Mapping[str, str], settle_s: float, samples: int) -> tuple[list[KindUsage], list[str]]:
    """Start a local serve, wait until it is ready and settled, sample, stop it; the
    table and the server's own ``atelier …`` lines."""
    target = AtelierTarget(TARGETS["atelier"], env)
    # Ray's socket paths must stay short: the run dir lives directly under /tmp.
    run_dir = Path(tempfile.mkdtemp(prefix="atelier-mem-", dir="/tmp"))
    server = await target.start(run_dir, READY_TIMEOUT_S)
    try:
        await _wait_ready(server.base_url, READY_TIMEOUT_S)
        await _settled(server.process, settle_s, READY_TIMEOUT_S)
        rounds = []
        for _ in range(samples):
            rounds.append(by_kind(_sample(server.process)))
            await asyncio.sleep(1.0)
        log = server.process.log_path.read_text(errors="replace").splitlines()
        lines = [line for line in log if line.startswith("atelier ")]
    finally:
        await target.stop(server)
        shutil.rmtree(run_dir, ignore_errors=True)
    # The median round by total PSS: one representative table, not a mix of rounds.
    totals = [sum(r.pss for r in rows) for rows in rounds]
    median = statistics.median_low(totals)
    return rounds[totals.index(median)], lines


def add_memory_parser(sub: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser("memory", help=HELP, description=HELP)
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds the process tree must stay unchanged (default 10)"
    )
    parser.add_argument("--samples", type=int, default=3, help="samples, 1 s apart; the median is shown")
    parser.add_argument(
        "--atelier-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for atelier serve (repeatable), e.g. ATELIER_CAD_WARM=0",
    )
    return parser


def run_memory_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        rows, lines = asyncio.run(measure(env, args.settle, max(1, args.samples)))
    except StartError as exc:
        print(f"python -m benchmarks memory: {exc}")
        return 1
    print("\n".join(lines))
    print(memory_table(rows))
    return 0
