"""py-spy attached to the server's processes: which ones, and one recording of each.

Three processes of a local ``atelier serve`` are profiled: the gateway (the serve's root
process), a session host actor and the store owner actor (Ray workers titled after their
actor class). Each is recorded twice at once, non-blocking (the process is never paused) and
CPU time only (idle threads are left out): a flame graph SVG, and raw collapsed stacks with
full file names, which ``stacks`` turns into the tables. Only the py-spy processes started
here are ever signalled.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..scenarios.rooms_saturate import HOST_LABEL

__all__ = [
    "GATEWAY",
    "ROLES",
    "ROLE_LABELS",
    "SESSION_HOST",
    "STORE_LABEL",
    "STORE_OWNER",
    "PySpyMissing",
    "Recording",
    "find_py_spy",
    "pick_processes",
    "py_spy_version",
    "record_process",
]

log = logging.getLogger(__name__)

GATEWAY = "gateway"
SESSION_HOST = "session-host"
STORE_OWNER = "store-owner"
ROLES = (GATEWAY, SESSION_HOST, STORE_OWNER)
STORE_LABEL = "ray::StoreService"
# Ray actor workers by ``process_label`` (``ray::<actor class>``).
ROLE_LABELS: dict[str, str] = {SESSION_HOST: HOST_LABEL, STORE_OWNER: STORE_LABEL}
# py-spy gets this long past its own --duration to attach, write and exit.
EXIT_GRACE_S = 30.0


class PySpyMissing(RuntimeError):
    """No py-spy executable on PATH nor next to this Python."""

    def __init__(self) -> None:
        super().__init__("py-spy not found (on PATH or next to this Python): pip install py-spy")


def find_py_spy() -> str:
    """The py-spy executable: on PATH, else in this Python's bin folder (an unactivated venv)."""
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise PySpyMissing()
    return found


def py_spy_version(executable: str) -> str:
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "py-spy"
    return done.stdout.strip() or "py-spy"


def pick_processes(
    root_pid: int,
    before: Mapping[int, tuple[str, float]],
    after: Mapping[int, tuple[str, float]],
) -> dict[str, int | None]:
    """The pid to profile per role (pure): the root is the gateway; of the actor processes
    with a role's label, the one that used the most CPU between ``before`` and ``after``
    (``cpu_by_pid`` readings: pid → (label, CPU seconds)); the lowest pid on a tie."""
    chosen: dict[str, int | None] = {GATEWAY: root_pid if root_pid in after else None}
    for role, label in ROLE_LABELS.items():
        used = {
            pid: seconds - before.get(pid, (label, 0.0))[1]
            for pid, (name, seconds) in after.items()
            if name == label
        }
        chosen[role] = min(used, key=lambda pid: (-used[pid], pid)) if used else None
    return chosen


@dataclass
class Recording:
    """One process's two recordings and what went wrong with them (an empty list: nothing)."""

    role: str
    pid: int
    svg: Path
    raw: Path
    errors: list[str] = field(default_factory=list)


async def _run(command: list[str], log_path: Path, timeout: float) -> str | None:  # noqa: ASYNC109 (py-spy's own bound plus a grace)
    """Run one py-spy; None when it succeeded, else why not (with its last output)."""
    with open(log_path, "wb") as out:  # noqa: ASYNC230 (a log file opened once per recording)
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
            )
        except OSError as exc:
            return f"cannot run {command[0]}: {exc}"
        try:
            code = await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            return f"py-spy did not finish within {timeout:.0f}s (log: {log_path})"
        finally:
            if process.returncode is None:  # timed out or cancelled: stop our own py-spy
                process.kill()
                await process.wait()
    if code == 0:
        return None
    return f"py-spy exited with {code}: {_tail(log_path)} (log: {log_path})"


def _tail(log_path: Path) -> str:
    """py-spy's last messages, without its Rust backtrace."""
    lines = [
        line.strip()
        for line in log_path.read_text(errors="replace").splitlines()
        if line.strip() and not line.startswith(("Stack backtrace", " "))
    ]
    return " / ".join(lines[-3:]) or "no output"


async def record_process(
    executable: str, role: str, pid: int, out: Path, *, duration: int, rate: int
) -> Recording:
    """``pid`` recorded for ``duration`` s at ``rate`` samples/s: ``<role>.svg`` and ``<role>.raw.txt``."""
    recording = Recording(role, pid, out / f"{role}.svg", out / f"{role}.raw.txt")
    logs = out / "py-spy"
    logs.mkdir(parents=True, exist_ok=True)
    base = [
        executable,
        "record",
        "--pid",
        str(pid),
        "--rate",
        str(rate),
        "--duration",
        str(duration),
        "--nonblocking",
    ]
    svg = [*base, "--format", "flamegraph", "--output", str(recording.svg)]
    raw = [*base, "--format", "raw", "--full-filenames", "--output", str(recording.raw)]
    timeout = duration + EXIT_GRACE_S
    outcomes = await asyncio.gather(
        _run(svg, logs / f"{role}-flamegraph.log", timeout), _run(raw, logs / f"{role}-raw.log", timeout)
    )
    recording.errors = [error for error in outcomes if error is not None]
    for error in recording.errors:
        log.warning("py-spy %s (pid %d): %s", role, pid, error)
    return recording
