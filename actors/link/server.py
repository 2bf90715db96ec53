"""Listening for links, and dialling them: aiohttp WebSockets over a Unix socket or TCP.

A process that serves links (a session host, the store owner) listens on a Unix socket
for peers on its own machine and on TCP for peers on other nodes; its ``LinkAddress``
travels to callers through a Ray call. A dialler picks the Unix socket when the address
is on its own machine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from .link import Link, LinkClosed

__all__ = ["LinkAddress", "LinkServer", "LinkSettings", "dial"]

log = logging.getLogger(__name__)

_PATH = "/link"
_PEER_HEADER = "Atelier-Link-Peer"
# Names this process to the servers it dials, across redials; a restarted process is another.
PROCESS_PEER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class LinkSettings:
    max_queue: int = 100_000  # messages queued on one link before it is cut
    max_batch: int = 1024  # messages per frame
    max_frame_bytes: int = 64 << 20
    connect_timeout: float = 5.0
    tcp_host: str = ""  # the address other nodes dial; empty: the Ray node's own address
    socket_dir: Path | None = None  # where Unix sockets live (the system temp dir by default)
    # Which node this process is on: peers with the same node dial the Unix socket, others
    # TCP. Empty: the hostname. Processes in Ray use the Ray node id (runtime.node_link_settings).
    node: str = ""


@dataclass(frozen=True, slots=True)
class LinkAddress:
    hostname: str
    unix_path: str
    tcp_host: str
    tcp_port: int

    def to_wire(self) -> list[object]:
        return [self.hostname, self.unix_path, self.tcp_host, self.tcp_port]

    @classmethod
    def from_wire(cls, value: list[object]) -> LinkAddress:
        hostname, unix_path, tcp_host, tcp_port = value
        return cls(str(hostname), str(unix_path), str(tcp_host), int(str(tcp_port)))


OnLink = Callable[[Link], None]


class LinkServer:
    """Accepts links and hands each to ``on_link`` before reading from it."""

    def __init__(self, name: str, settings: LinkSettings, on_link: OnLink) -> None:
        self._name = name
        self._settings = settings
        self._on_link = on_link
        self._runner: web.AppRunner | None = None
        self._links: set[Link] = set()
        self.address: LinkAddress | None = None

    @property
    def links(self) -> set[Link]:
        return self._links

    async def start(self) -> LinkAddress:
        app = web.Application()
        app.router.add_get(_PATH, self._accept)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        directory = self._settings.socket_dir or Path(tempfile.gettempdir())
        directory.mkdir(parents=True, exist_ok=True)
        # Short and unique: Unix socket paths are limited to ~108 bytes.
        unix_path = str(directory / f"atelier-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock")
        await web.UnixSite(self._runner, unix_path).start()
        # Bound here so the kernel's choice of port is known before anyone dials it.
        sock = socket.socket(socket.AF_INET6 if ":" in self._settings.tcp_host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._settings.tcp_host, 0))
        port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self.address = LinkAddress(
            self._settings.node or socket.gethostname(), unix_path, self._settings.tcp_host, port
        )
        log.info(
            "link server name=%s unix=%s tcp=%s:%d", self._name, unix_path, self._settings.tcp_host, port
        )
        return self.address

    async def _accept(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=self._settings.max_frame_bytes, autoping=True)
        await ws.prepare(request)
        link = Link(
            ws,
            name=f"{self._name}<-{request.remote or 'unix'}",
            max_queue=self._settings.max_queue,
            max_batch=self._settings.max_batch,
            peer=request.headers.get(_PEER_HEADER, ""),
        )
        self._links.add(link)
        try:
            self._on_link(link)
            await link.run()
        finally:
            self._links.discard(link)
        return ws

    async def stop(self) -> None:
        for link in list(self._links):
            await link.close("server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.address is not None:
            # One unlink of a local socket file, once at shutdown: no thread hop is worth it.
            Path(self.address.unix_path).unlink(missing_ok=True)  # noqa: ASYNC240


async def dial(
    address: LinkAddress, name: str, settings: LinkSettings, *, peer: str = PROCESS_PEER
) -> tuple[Link, asyncio.Task[None]]:
    """Connect to a link server; returns the link and the task reading it (keep both).

    ``peer`` names the dialling process to the server (the same across its redials)."""
    node = settings.node or socket.gethostname()
    # One stat of a local socket path per dial (rare: links are long-lived).
    local = address.hostname == node and os.path.exists(address.unix_path)  # noqa: ASYNC240
    connector: aiohttp.BaseConnector = (
        aiohttp.UnixConnector(path=address.unix_path) if local else aiohttp.TCPConnector()
    )
    http = aiohttp.ClientSession(connector=connector)
    host = "localhost" if local else f"{address.tcp_host}:{address.tcp_port}"
    try:
        ws = await asyncio.wait_for(
            http.ws_connect(
                f"http://{host}{_PATH}",
                max_msg_size=settings.max_frame_bytes,
                autoping=True,
                headers={_PEER_HEADER: peer},
            ),
            settings.connect_timeout,
        )
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        await http.close()
        raise LinkClosed(f"cannot reach {name} at {host}: {exc}") from exc
    link = Link(ws, name=name, max_queue=settings.max_queue, max_batch=settings.max_batch)

    async def read() -> None:
        try:
            await link.run()
        finally:
            await http.close()

    task = asyncio.get_running_loop().create_task(read(), name=f"link-reader:{name}")
    return link, task
