"""Real processes for deployment tests: a Ray head, `atelier serve` gateways, a throwaway Redis.

Each is started by the test, kept on loopback, and stopped by its own PID (SIGTERM, then
SIGKILL past a grace period) — never by name, never with `ray stop`, which would end
every Ray on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import aiohttp
import psutil

from actors.runtime import RAY_ENV

from .services import free_port

__all__ = [
    "GatewayProcess",
    "RayHead",
    "RedisProcess",
    "base_env",
    "lines_starting",
    "local_serve",
    "stop_pid",
    "tail",
]

ROOT = Path(__file__).resolve().parents[1]


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: Ray on loopback, no usage stats, no token auth."""
    env = dict(os.environ)
    for key in ("RAY_ADDRESS", "DATABASE_URL", "REDIS_URL"):
        env.pop(key, None)
    env.update(RAY_ENV)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def stop_pid(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """End a child we started: SIGTERM, then SIGKILL if it has not exited within ``grace``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def lines_starting(path: Path, prefix: str) -> list[str]:
    """The lines of a log that start with ``prefix`` (``atelier serve``'s own lines)."""
    return [line for line in path.read_text(errors="replace").splitlines() if line.startswith(prefix)]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


class RayHead:
    """`ray start --head --block` on 127.0.0.1 with ports and a temp dir of its own.

    ``--block`` keeps every Ray process a child of the one we started, so ending that PID
    (SIGTERM) ends the whole node.
    """

    def __init__(self, num_cpus: int = 2) -> None:
        self.num_cpus = num_cpus
        self.temp_dir = Path(tempfile.mkdtemp(prefix="atelier-rayhead-", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = self.temp_dir / "ray-start.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self, timeout: float = 120.0) -> RayHead:
        self._log_file = open(self.log, "wb")  # noqa: SIM115  (closed in stop())
        ray_bin = str(Path(sys.executable).parent / "ray")
        command = [
            ray_bin if Path(ray_bin).exists() else "ray",
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={self.port}",
            f"--num-cpus={self.num_cpus}",
            "--include-dashboard=false",
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            "--object-store-memory=100000000",
        ]
        self.process = subprocess.Popen(
            command, env=base_env(), stdout=self._log_file, stderr=subprocess.STDOUT, cwd=self.temp_dir
        )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited {self.process.returncode}:\n{tail(self.log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ray head not ready within {timeout}s:\n{tail(self.log)}")
            time.sleep(0.5)
        return self

    def _ready(self) -> bool:
        # The raylet registers last; its socket file appears once the node can take work.
        return any(self.temp_dir.glob("session_*/sockets/raylet"))

    def descendants(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return list(psutil.Process(self.process.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process is not None:
            stop_pid(self.process, grace=30)
        if self._log_file is not None:
            self._log_file.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


class GatewayProcess:
    """One `atelier serve` in a child process; ``kill()`` is a SIGKILL, ``stop()`` graceful."""

    def __init__(self, name: str, work_dir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.work_dir = work_dir
        self.log = work_dir / f"{name}.log"
        self.env = base_env(ATELIER_PORT=str(self.port), ATELIER_HOST="127.0.0.1", **env)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> GatewayProcess:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log, "ab")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve"],
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.work_dir,
        )
        return self

    async def wait_ready(self, timeout: float = 180.0) -> None:  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{tail(self.log)}")
                # Not listening yet: the next poll decides.
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(
                        f"{self.url}/api/sessions", timeout=aiohttp.ClientTimeout(total=5)
                    ) as r:
                        if r.status == 200:
                            return
                if loop.time() > deadline:
                    raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{tail(self.log)}")
                await asyncio.sleep(0.5)

    def descendants(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return list(psutil.Process(self.process.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL, as an operator's `kill -9` or the OOM killer would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            stop_pid(self.process, grace=30)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


@contextlib.contextmanager
def local_serve(name: str, work_dir: Path, **env: str) -> Iterator[GatewayProcess]:
    """An `atelier serve` with a local Ray of its own (2 CPUs, 1 host, offline, data in
    ``work_dir/data``), not yet started; stopped and its Ray temp dir removed afterwards."""
    # Ray's socket paths must stay short: its temp dir lives directly under /tmp.
    ray_temp = Path(tempfile.mkdtemp(prefix=f"atelier-{name}-", dir="/tmp"))
    gateway = GatewayProcess(
        name,
        work_dir,
        {
            "ATELIER_DATA_DIR": str(work_dir / "data"),
            "ATELIER_RAY_TEMP_DIR": str(ray_temp),
            "ATELIER_RAY_NUM_CPUS": "2",
            "ATELIER_HOSTS": "1",
            "OPENAI_API_KEY": "",
            "ATELIER_OBJECTS_URL": "",
            **env,
        },
    )
    try:
        yield gateway
    finally:
        gateway.stop()
        shutil.rmtree(ray_temp, ignore_errors=True)


class RedisProcess:
    """A throwaway redis-server on a free loopback port (never the machine's shared one)."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> RedisProcess:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.1)
        return self

    def answers(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # down hard, as a crashed Redis would be
            self.process.wait(10)
            self.process = None
