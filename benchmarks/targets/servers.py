"""The servers a benchmark runs against, each started fresh per run on a free loopback port.

| target           | what runs                                              | client protocol             |
|------------------|--------------------------------------------------------|-----------------------------|
| atelier          | ``atelier serve`` (local Ray + embedded SQLite), dense | Hocuspocus (or y-websocket) |
| atelier-isolated | the same, one host process per session                 | Hocuspocus (or y-websocket) |
| hocuspocus       | ``@hocuspocus/server`` from npm, no extensions         | Hocuspocus                  |
| pycrdt           | pycrdt-websocket's ``WebsocketServer`` on aiohttp      | y-websocket                 |
| relay            | a bare aiohttp relay, no CRDT                          | Hocuspocus (or y-websocket) |
"""

from __future__ import annotations

import importlib.util
import secrets
import shutil
import sys
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import orjson
import psutil

from ..wire import WireProtocol
from .npm import ensure_installed
from .process import ServerProcess, StartError, child_env, free_port

__all__ = [
    "DEFAULT_TARGETS",
    "TARGETS",
    "TARGET_NAMES",
    "RunningServer",
    "Target",
    "TargetInfo",
    "create_bridge_sessions",
    "make_target",
    "mint_bench_token",
]

PEERS_DIR = Path(__file__).resolve().parents[1] / "peers"
HOCUSPOCUS_DIR = PEERS_DIR / "hocuspocus"

# The element REST agents edit (created with every atelier session of the rest-ops scenario).
BENCH_SPEC: dict[str, Any] = {
    "root": "root",
    "elements": {"root": {"type": "Card", "props": {}, "children": []}},
}
BENCH_ELEMENT = "root"


@dataclass(frozen=True, slots=True)
class TargetInfo:
    name: str
    title: str
    protocols: tuple[WireProtocol, ...]  # the first one is the default
    rest_ops: bool
    note: str
    # Each live session is a server process of its own (sessions scenario caps its size).
    process_per_session: bool = False
    # Serves the design-engine and workspace APIs (stages, runs, mixed).
    api: bool = False


TARGETS: dict[str, TargetInfo] = {
    "atelier": TargetInfo(
        "atelier",
        "atelier",
        (WireProtocol.HOCUSPOCUS, WireProtocol.Y_WEBSOCKET),
        True,
        "atelier serve: local Ray, embedded SQLite, dense placement (default); acks after commit; "
        "offline LLM provider",
        api=True,
    ),
    "atelier-isolated": TargetInfo(
        "atelier-isolated",
        "atelier (isolated)",
        (WireProtocol.HOCUSPOCUS, WireProtocol.Y_WEBSOCKET),
        True,
        "atelier serve with ATELIER_PLACEMENT=isolated (one host actor process per session, "
        "from a pool of pre-started ones)",
        process_per_session=True,
        api=True,
    ),
    "hocuspocus": TargetInfo(
        "hocuspocus",
        "Hocuspocus",
        (WireProtocol.HOCUSPOCUS,),
        False,
        "@hocuspocus/server (npm), stock config, no persistence extension",
    ),
    "pycrdt": TargetInfo(
        "pycrdt",
        "pycrdt-websocket",
        (WireProtocol.Y_WEBSOCKET,),
        False,
        "pycrdt-websocket WebsocketServer on aiohttp, no store; no acks",
    ),
    "relay": TargetInfo(
        "relay",
        "aiohttp relay",
        (WireProtocol.HOCUSPOCUS, WireProtocol.Y_WEBSOCKET),
        False,
        "bare aiohttp frame relay, no CRDT, acks on receipt: the Python ceiling",
    ),
}
TARGET_NAMES = tuple(TARGETS)
DEFAULT_TARGETS = ("atelier", "hocuspocus", "pycrdt", "relay")
# Environment that defines a target variant: the caller's --atelier-env adds to it but never
# overrides it (the placement is pinned, so an ATELIER_PLACEMENT in the shell changes nothing).
_VARIANT_ENV: dict[str, dict[str, str]] = {
    "atelier": {"ATELIER_PLACEMENT": "dense"},
    "atelier-isolated": {"ATELIER_PLACEMENT": "isolated"},
}


class RunningServer:
    """A started (or, with ``--url``, an existing) target: its URLs, tokens, process, documents."""

    def __init__(
        self,
        target: Target,
        process: Any,
        port: int,
        startup_s: float,
        *,
        base_url: str | None = None,
        tokens: Any = None,
        local: bool = True,
    ) -> None:
        self.target = target
        self.process = process  # a ServerProcess, or what --url found of a local server
        self.port = port
        self.startup_s = startup_s
        self.base_url = base_url or f"http://127.0.0.1:{port}"
        # user index -> bearer token ("" when the server needs none)
        self._tokens = tokens or (lambda index: "")
        self.local = local  # its processes are on this machine: memory and CPU are measured

    def token_for(self, user: int) -> str:
        return str(self._tokens(user))

    def ws_url(self, protocol: WireProtocol, document: str) -> str:
        url = self.target.ws_url(self.port, protocol, document)
        token = self.token_for(0)
        if token and protocol is WireProtocol.Y_WEBSOCKET:
            url += ("&" if "?" in url else "?") + f"token={token}"
        return url

    def ops_url(self, document: str) -> str:
        return self.target.ops_url(self.port, document)

    async def create_documents(self, count: int, *, with_element: bool = False) -> list[str]:
        return await self.target.create_documents(
            self.base_url, count, with_element=with_element, token=self.token_for(0)
        )


def mint_bench_token(secret: str, user: str, ttl: int = 3600) -> str:
    """An HS256 bearer token as ``atelier token --user`` mints it (the managed server's secret)."""
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + ttl}, secret, algorithm="HS256")


class Target:
    """How to start one kind of server and address its documents."""

    stop_grace = 5.0
    start_timeout = 30.0

    def __init__(self, info: TargetInfo, env: Mapping[str, str] | None = None) -> None:
        self.info = info
        self.extra_env = dict(env or {})

    @property
    def name(self) -> str:
        return self.info.name

    async def prepare(self) -> None:
        """One-time setup before the first run (installs, checks)."""

    def command(self, port: int, run_dir: Path) -> list[str]:
        raise NotImplementedError

    def env(self, run_dir: Path) -> dict[str, str]:
        return child_env(self.extra_env)

    def health_path(self) -> str:
        return "/health"

    def cwd(self) -> Path:
        return Path.cwd()

    def ws_url(self, port: int, protocol: WireProtocol, document: str) -> str:
        if protocol is WireProtocol.HOCUSPOCUS:
            return f"ws://127.0.0.1:{port}/ws"
        return f"ws://127.0.0.1:{port}/ws/{document}"

    def ops_url(self, port: int, document: str) -> str:
        raise StartError(f"{self.name} has no REST ops API")

    async def create_documents(
        self, base_url: str, count: int, *, with_element: bool, token: str = ""
    ) -> list[str]:
        return [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(count)]

    def tokens(self) -> Any:
        """user index -> bearer token for a server this target started."""
        return None

    async def host_stats(self, server: RunningServer) -> list[dict[str, Any]] | None:
        """Sessions per session-host process (``{"pid", "name", "sessions"}``); None: no such hosts."""
        return None

    async def start(self, run_dir: Path, timeout: float | None = None) -> RunningServer:  # noqa: ASYNC109 (a missed deadline is a StartError with the log tail)
        port = free_port()
        process = ServerProcess(
            self.name,
            self.command(port, run_dir),
            cwd=self.cwd(),
            env=self.env(run_dir),
            health_url=f"http://127.0.0.1:{port}{self.health_path()}",
            log_path=run_dir / f"{self.name}.log",
        )
        try:
            startup = await process.start(timeout or self.start_timeout)
        except BaseException:
            await process.stop(self.stop_grace)
            raise
        return RunningServer(self, process, port, startup, tokens=self.tokens())

    async def stop(self, server: RunningServer) -> None:
        await server.process.stop(self.stop_grace)
        self.cleanup(server)

    def cleanup(self, server: RunningServer) -> None:
        """Remove per-run state the server left behind."""


class AtelierTarget(Target):
    stop_grace = 30.0
    start_timeout = 90.0

    def health_path(self) -> str:
        # Measured from a warm server: /health answers as soon as the gateway listens, /ready
        # once its hosts, store owner and run workers are started.
        return "/ready"

    # Environment that would point atelier at shared services; benchmarks use the embedded
    # defaults unless the caller passes these explicitly (``--atelier-env``).
    _ISOLATE = (
        "RAY_ADDRESS",
        "DATABASE_URL",
        "REDIS_URL",
        "ATELIER_PORT",
        "ATELIER_HOST",
        # the design engine runs with the offline provider: never a real model
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ATELIER_AUTH_JWKS_URL",
    )
    # Big enough that the runs scenario measures runs, not the monthly quota.
    QUOTA = "10000000"

    def __init__(self, info: TargetInfo, env: Mapping[str, str] | None = None) -> None:
        super().__init__(info, env)
        self._secret = secrets.token_hex(32)

    def tokens(self) -> Any:
        secret = self.extra_env.get("ATELIER_AUTH_SECRET", self._secret)
        cache: dict[int, str] = {}

        def token(index: int) -> str:
            if index not in cache:
                cache[index] = mint_bench_token(secret, f"bench-{index}")
            return cache[index]

        return token

    async def prepare(self) -> None:
        if shutil.which("atelier") is None and not _module_available("gateway.cli"):
            raise StartError("atelier is not installed: pip install -e '.[bench]'")

    def command(self, port: int, run_dir: Path) -> list[str]:
        ray_dir = _ray_temp_dir(run_dir)
        return [
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(run_dir / "atelier-data"),
            "--ray-temp-dir",
            str(ray_dir),
        ]

    def env(self, run_dir: Path) -> dict[str, str]:
        env = child_env(drop=self._ISOLATE)
        env.update(
            {
                "RAY_USAGE_STATS_ENABLED": "0",
                "RAY_AUTH_MODE": "disabled",
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                "ATELIER_LOG_LEVEL": env.get("ATELIER_LOG_LEVEL", "WARNING"),
                "ATELIER_AUTH_SECRET": self._secret,
                "ATELIER_WORKSPACE_QUOTA_LIMIT": self.QUOTA,
            }
        )
        env.update(self.extra_env)
        return env

    def ops_url(self, port: int, document: str) -> str:
        return f"http://127.0.0.1:{port}/api/sessions/{document}/ops"

    async def host_stats(self, server: RunningServer) -> list[dict[str, Any]] | None:
        from .host_probe import gcs_address, host_stats

        address = gcs_address(_cmdlines(server.process.tree()))
        if address is None:
            raise ValueError("no Ray node process with --gcs-address in the server's tree")
        namespace = self.extra_env.get("ATELIER_RAY_NAMESPACE", "atelier")
        return await host_stats(address, namespace, server.process.log_path.parent / "host-probe.log")

    async def create_documents(
        self, base_url: str, count: int, *, with_element: bool, token: str = ""
    ) -> list[str]:
        return await create_bridge_sessions(base_url, count, with_element=with_element, token=token)

    def cleanup(self, server: RunningServer) -> None:
        # Ray leaves its session directories (logs, sockets) behind; they are per run.
        run_dir = server.process.log_path.parent
        shutil.rmtree(_ray_temp_dir(run_dir), ignore_errors=True)
        shutil.rmtree(run_dir / "atelier-data", ignore_errors=True)


class HocuspocusTarget(Target):
    start_timeout = 30.0

    async def prepare(self) -> None:
        await ensure_installed(HOCUSPOCUS_DIR)

    def command(self, port: int, run_dir: Path) -> list[str]:
        node = shutil.which("node") or "node"
        return [node, str(HOCUSPOCUS_DIR / "server.mjs"), "--port", str(port)]

    def cwd(self) -> Path:
        return HOCUSPOCUS_DIR

    def health_path(self) -> str:
        return "/"  # "Welcome to Hocuspocus!"

    def ws_url(self, port: int, protocol: WireProtocol, document: str) -> str:
        return f"ws://127.0.0.1:{port}/"


class PycrdtTarget(Target):
    def command(self, port: int, run_dir: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.pycrdt_ws_server", "--port", str(port)]

    def ws_url(self, port: int, protocol: WireProtocol, document: str) -> str:
        return f"ws://127.0.0.1:{port}/{document}"


class RelayTarget(Target):
    def command(self, port: int, run_dir: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.relay", "--port", str(port)]


_CLASSES: dict[str, type[Target]] = {
    "atelier": AtelierTarget,
    "atelier-isolated": AtelierTarget,
    "hocuspocus": HocuspocusTarget,
    "pycrdt": PycrdtTarget,
    "relay": RelayTarget,
}


def make_target(name: str, env: Mapping[str, str] | None = None) -> Target:
    try:
        cls, info = _CLASSES[name], TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r} (known: {', '.join(TARGET_NAMES)})") from None
    return cls(info, {**(env or {}), **_VARIANT_ENV.get(name, {})})


async def create_bridge_sessions(
    base_url: str, count: int, *, with_element: bool, token: str = ""
) -> list[str]:
    """Bridge sessions created over REST (``POST /api/sessions``); returns their ids."""
    ids: list[str] = []
    timeout = aiohttp.ClientTimeout(total=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for index in range(count):
            body: dict[str, Any] = {"name": f"bench-{index}"}
            if with_element:
                body["spec"] = BENCH_SPEC
            async with http.post(
                base_url.rstrip("/") + "/api/sessions", data=orjson.dumps(body), headers=headers
            ) as response:
                payload = await response.read()
                if response.status != 201:
                    raise StartError(f"atelier: POST /api/sessions -> {response.status}: {payload[:300]!r}")
            ids.append(str(orjson.loads(payload)["session"]["id"]))
    return ids


def _ray_temp_dir(run_dir: Path) -> Path:
    # Ray's socket paths must stay under 107 bytes: keep its temp dir short, under /tmp.
    return Path("/tmp") / f"atelier-bench-ray-{zlib.crc32(str(run_dir).encode()):08x}"


def _cmdlines(processes: list[psutil.Process]) -> list[list[str]]:
    lines = []
    for process in processes:
        try:
            lines.append(list(process.cmdline()))
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
    return lines


def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
