"""A server under test as a subprocess: start, readiness, memory and CPU of its tree, stop.

Only processes this module started are ever signalled: the server's own PID and, at stop,
the descendants it had (recorded before signalling, so a re-used PID is never hit). Server
output goes to a log file (never a pipe nobody reads).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import aiohttp
import psutil

__all__ = [
    "MemorySample",
    "NoProcess",
    "ServerProcess",
    "StartError",
    "by_label",
    "child_env",
    "cpu_seconds_of",
    "free_port",
    "listening_pid",
    "process_label",
]

log = logging.getLogger(__name__)


class StartError(RuntimeError):
    """The server did not start or did not become ready in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class MemorySample:
    at: float  # seconds since the server was started
    rss: int
    pss: int
    processes: int


class ServerProcess:
    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        health_url: str,
        log_path: Path,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.cwd = cwd
        self.env = dict(env)
        self.health_url = health_url
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._root: psutil.Process | None = None
        self._known: dict[int, psutil.Process] = {}
        self._started_at = 0.0

    @classmethod
    def attached(cls, name: str, pid: int) -> ServerProcess:
        """A server this module did not start (``--url`` on this machine): measured, never signalled."""
        attached = cls(name, [], cwd=Path.cwd(), env={}, health_url="", log_path=Path("/dev/null"))
        attached._root = psutil.Process(pid)
        return attached

    @property
    def pid(self) -> int | None:
        if self._process is not None:
            return self._process.pid
        return None if self._root is None else int(self._root.pid)

    @property
    def known_pids(self) -> list[int]:
        """Every PID of the server's tree seen so far."""
        return sorted(self._known)

    async def start(self, timeout: float) -> float:  # noqa: ASYNC109 (a missed deadline is a StartError with the log tail)
        """Start the process and poll its health URL; returns seconds until ready."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Opened once per server start, before anything is measured; closed in ``stop``.
        self._log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230
        self._started_at = time.monotonic()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=str(self.cwd),
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                start_new_session=True,
            )
        except OSError as exc:
            raise StartError(f"{self.name}: cannot run {self.command[0]}: {exc}") from exc
        self._root = psutil.Process(self._process.pid)
        await self._wait_ready(timeout)
        return time.monotonic() - self._started_at

    async def _wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109 (a missed deadline is a StartError with the log tail)
        assert self._process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error = "no answer yet"
        probe_timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=probe_timeout) as http:
            while loop.time() < deadline:
                if self._process.returncode is not None:
                    raise StartError(
                        f"{self.name} exited with code {self._process.returncode} while starting "
                        f"(log: {self.log_path}){self._log_tail()}"
                    )
                try:
                    async with http.get(self.health_url) as response:
                        if response.status == 200:
                            return
                        last_error = f"HTTP {response.status}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    last_error = repr(exc)
                await asyncio.sleep(0.2)
        raise StartError(
            f"{self.name} not ready within {timeout:.0f}s ({last_error}; log: {self.log_path})"
            f"{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n  " + "\n  ".join(text) if text else ""

    def tree(self) -> list[psutil.Process]:
        """The server process and all its live descendants (remembered for stop)."""
        if self._root is None:
            return []
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for process in processes:
            self._known.setdefault(process.pid, process)
        return processes

    def sample_memory(self) -> MemorySample:
        """RSS and PSS summed over the tree (PSS splits shared pages fairly between them)."""
        rss = pss = count = 0
        for process in self.tree():
            try:
                info = process.memory_full_info()
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            except psutil.AccessDenied:
                info = None
            if info is None:
                continue
            rss += int(info.rss)
            pss += int(getattr(info, "pss", info.rss))
            count += 1
        return MemorySample(time.monotonic() - self._started_at, rss, pss, count)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the live tree (descendants that exited are not counted)."""
        return cpu_seconds_of(self.tree())

    def cpu_by_pid(self) -> dict[int, tuple[str, float]]:
        """CPU seconds of each live process of the tree, with its label (``process_label``)."""
        seconds: dict[int, tuple[str, float]] = {}
        for process in self.tree():
            try:
                times = process.cpu_times()
                label = process_label(process)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            seconds[int(process.pid)] = (label, times.user + times.system)
        return seconds

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds of the live tree per process label (several processes may share one)."""
        return by_label(self.cpu_by_pid())

    async def stop(self, grace: float) -> None:
        """SIGTERM the server, wait ``grace`` seconds, then SIGKILL whatever of its tree is left."""
        process = self._process
        if process is None:
            return
        self.tree()  # remember the current descendants before signalling
        if process.returncode is None:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                log.debug("%s exited before SIGTERM", self.name)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                log.warning("%s did not stop within %.0fs: killing it", self.name, grace)
        survivors = [p for p in self._known.values() if _alive(p)]
        for survivor in survivors:
            try:
                survivor.kill()
            except psutil.NoSuchProcess:
                continue
        if survivors:
            psutil.wait_procs(survivors, timeout=5)
        if process.returncode is None:
            await asyncio.wait_for(process.wait(), 5)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._process = None


class NoProcess:
    """A server on another machine: nothing to sample (the report says memory is not measured)."""

    @property
    def known_pids(self) -> list[int]:
        return []

    def sample_memory(self) -> MemorySample:
        return MemorySample(0.0, 0, 0, 0)

    def cpu_by_pid(self) -> dict[int, tuple[str, float]]:
        return {}

    def cpu_by_process(self) -> dict[str, float]:
        return {}

    def cpu_seconds(self) -> float:
        return 0.0


def listening_pid(port: int) -> int | None:
    """The process listening on ``port`` of this machine's loopback or any address, if visible."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


def _alive(process: psutil.Process) -> bool:
    """Still running and still the process we saw (same creation time, so not a re-used PID)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def cpu_seconds_of(processes: Sequence[psutil.Process]) -> float:
    """User + system CPU seconds of ``processes`` (those that are gone count nothing)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system
    return total


def by_label(by_pid: Mapping[int, tuple[str, float]]) -> dict[str, float]:
    """Per-process figures summed per label (pure)."""
    totals: dict[str, float] = {}
    for label, value in by_pid.values():
        totals[label] = totals.get(label, 0.0) + value
    return totals


def process_label(process: psutil.Process) -> str:
    """``ray::SessionHost``, ``raylet``, ``node``, or ``python -m <module>`` for Python processes."""
    name = str(process.name())
    if name.startswith("ray::"):
        # A Ray worker's title names the method it last ran (``ray::SessionHost.wait_closed``):
        # one label per actor class keeps a process's CPU under one name.
        return name.split(".", 1)[0]
    if not name.startswith("python"):
        return name
    args = process.cmdline()
    if "-m" in args[:-1]:
        return f"python -m {args[args.index('-m') + 1]}"
    scripts = [a for a in args[1:] if a.endswith(".py")]
    return f"python {Path(scripts[0]).name}" if scripts else name


def child_env(extra: Mapping[str, str] | None = None, drop: Sequence[str] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra or {})
    return env
