"""``--url``: a server someone else started — any atelier deployment, or for the realtime
scenarios any Hocuspocus or y-websocket server — measured with the same clients and reports.

Nothing here starts or stops the server. Its token is ``--token``, or the output of
``--token-command`` (e.g. ``atelier token --user bench``), run once before the first run.
When the URL's host is this machine and the listening process is visible, its process tree's
memory and CPU are sampled as for a managed server; otherwise they are not measured and each
run says so (``extra["server_measured"]``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import shlex
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..config import RunOptions
from ..wire import WireProtocol
from .process import NoProcess, ServerProcess, StartError, listening_pid
from .servers import RunningServer, Target, TargetInfo, create_bridge_sessions

__all__ = ["REMOTE", "RemoteTarget", "resolve_token"]

REMOTE = "remote"

_PROTOCOLS: dict[str, tuple[WireProtocol, ...]] = {
    "atelier": (WireProtocol.HOCUSPOCUS, WireProtocol.Y_WEBSOCKET),
    "hocuspocus": (WireProtocol.HOCUSPOCUS,),
    "y-websocket": (WireProtocol.Y_WEBSOCKET,),
}


def resolve_token(token: str, command: str, timeout: float = 60.0) -> str:
    """``token``, or the last line ``command`` prints (it must exit 0)."""
    if token or not command:
        return token
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StartError(f"--token-command failed: {exc}") from exc
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise StartError(f"--token-command exited {done.returncode}: {done.stderr.strip()[:300]}")
    return lines[-1]


def _is_local(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return any(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


class RemoteTarget(Target):
    start_timeout = 30.0

    def __init__(self, run: RunOptions) -> None:
        parts = urlsplit(run.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StartError(f"--url must be http(s)://host:port, got {run.url!r}")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.hostname
        self.url_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = parts.path.rstrip("/")
        self.kind = run.server_kind
        self._run = run
        self._token = ""
        info = TargetInfo(
            REMOTE,
            f"{self.kind} at {self.url}",
            _PROTOCOLS[self.kind],
            rest_ops=self.kind == "atelier",
            note=(
                f"an existing {self.kind} server at {self.url} (--url): "
                "not started or stopped by the benchmark"
            ),
            api=self.kind == "atelier",
        )
        super().__init__(info)

    async def prepare(self) -> None:
        self._token = await asyncio.to_thread(resolve_token, self._run.token, self._run.token_command)

    def ws_url(self, port: int, protocol: WireProtocol, document: str) -> str:
        base = ("wss://" if self.url.startswith("https") else "ws://") + self.url.split("://", 1)[1]
        if self.kind == "atelier":
            return f"{base}{self.path}/ws" + ("" if protocol is WireProtocol.HOCUSPOCUS else f"/{document}")
        if self.kind == "hocuspocus":
            return f"{base}{self.path}/"
        return f"{base}{self.path}/{document}"

    def ops_url(self, port: int, document: str) -> str:
        if self.kind != "atelier":
            raise StartError(f"a {self.kind} server has no REST ops API")
        return f"{self.url}{self.path}/api/sessions/{document}/ops"

    async def create_documents(
        self, base_url: str, count: int, *, with_element: bool, token: str = ""
    ) -> list[str]:
        if self.kind == "atelier":
            return await create_bridge_sessions(base_url, count, with_element=with_element, token=token)
        return await super().create_documents(base_url, count, with_element=with_element, token=token)

    async def start(self, run_dir: Path, timeout: float | None = None) -> RunningServer:  # noqa: ASYNC109 (a missed deadline is a StartError naming the URL)
        began = time.monotonic()
        await self._reachable(timeout or self.start_timeout)
        process: Any = NoProcess()
        local = False
        if _is_local(self.host):
            pid = await asyncio.to_thread(listening_pid, self.url_port)
            if pid is not None:
                process, local = ServerProcess.attached(self.name, pid), True
        token = self._token
        server = RunningServer(
            self,
            process,
            self.url_port,
            time.monotonic() - began,
            base_url=self.url + self.path,
            tokens=lambda index: token,
            local=local,
        )
        return server

    async def _reachable(self, timeout: float) -> None:  # noqa: ASYNC109 (a missed deadline is a StartError naming the URL)
        """Any HTTP answer will do (a y-websocket server may answer 404 to a plain GET)."""
        probe = self.url + self.path + ("/health" if self.kind == "atelier" else "/")
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
                http.get(probe) as response,
            ):
                if response.status >= 500:
                    raise StartError(f"{probe} answered HTTP {response.status}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise StartError(f"{probe} not reachable: {exc!r}") from exc

    async def stop(self, server: RunningServer) -> None:
        """Not ours: left running."""
