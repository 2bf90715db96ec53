"""Ends a gateway's local Ray promptly when the gateway dies without shutting it down.

Ray ties the head processes (GCS, raylet, monitors) to the driver that started them
(``PR_SET_PDEATHSIG``), so a SIGKILLed ``atelier serve`` takes those down at once. The
raylet's own children are not tied to it: workers notice within seconds, but the
dashboard and runtime-env agents, finding the raylet gone "unexpectedly", try to report
it to the already dead GCS and wait out a 60 s timeout first. This small process waits
for its parent's death (EOF on an inherited pipe, as Ray's own reaper does) and then ends
every process the raylet started: SIGTERM, then SIGKILL after a grace period.

Run as ``python -m actors.reaper --raylet-pid N``; it imports neither Ray nor asyncio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import psutil

__all__ = ["ProcessKey", "main", "reap"]

# (pid, create_time): a pid alone may be reused by an unrelated process meanwhile.
ProcessKey = tuple[int, float]


def _key(process: psutil.Process) -> ProcessKey | None:
    try:
        return process.pid, process.create_time()
    except psutil.Error:
        return None


def _children(raylet_pid: int) -> set[ProcessKey]:
    try:
        children = psutil.Process(raylet_pid).children(recursive=True)
    except psutil.Error:
        return set()
    return {key for child in children if (key := _key(child)) is not None}


def _alive(keys: set[ProcessKey]) -> list[psutil.Process]:
    alive: list[psutil.Process] = []
    for pid, created in keys:
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.Error:
            continue  # already gone
    return alive


def _signal(processes: list[psutil.Process], sig: signal.Signals) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(sig)


def reap(keys: set[ProcessKey], grace: float) -> int:
    """End the processes still alive among ``keys``; returns how many had to be ended."""
    targets = _alive(keys)
    _signal(targets, signal.SIGTERM)
    _, still = psutil.wait_procs(targets, timeout=grace)
    _signal(still, signal.SIGKILL)
    psutil.wait_procs(still, timeout=grace)
    return len(targets)


def _parent_gone(timeout: float) -> bool:
    """True once stdin (the parent's pipe) reaches EOF; False when ``timeout`` passes first."""
    ready, _, _ = select.select([sys.stdin.buffer], [], [], timeout)
    if not ready:
        return False
    return os.read(sys.stdin.fileno(), 4096) == b""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actors.reaper")
    parser.add_argument("--raylet-pid", type=int, required=True)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between looks at the raylet's children"
    )
    parser.add_argument("--grace", type=float, default=2.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--marker", type=Path, help="ray_current_cluster file to remove afterwards")
    args = parser.parse_args(argv)
    # A Ctrl-C in the gateway's terminal reaches this process too: the gateway then shuts
    # Ray down itself, and this process must outlive it to check the job was done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous: set[ProcessKey] = set()
    while True:
        # Looked up while the raylet lives: once it is dead its children belong to init.
        # The last two looks are kept, so a process started just before the end counts.
        current = _children(args.raylet_pid)
        known = previous | current
        previous = current
        if _parent_gone(args.interval):
            break
    ended = reap(known, args.grace)
    if ended and args.marker is not None:
        args.marker.unlink(missing_ok=True)
    if ended:
        print(f"atelier reaper: ended {ended} Ray processes left by a dead gateway", file=sys.stderr)


if __name__ == "__main__":
    main()
