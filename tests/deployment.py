"""A two-gateway deployment for tests, and editors that count what was acknowledged.

``two_gateways`` starts a Ray head (``ray start --head --block`` on 127.0.0.1), a throwaway
Redis and two ``atelier serve`` processes that join the head with ``RAY_ADDRESS`` and share
one Postgres database and the Redis. ``Typists`` drives real @hocuspocus/provider peers
(tests/interop/peer.mjs) and keeps, per peer, how many of its edits the server had
acknowledged (the provider's ``unsyncedChanges`` back at 0 after them).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .cluster_procs import GatewayProcess, RayHead, RedisProcess
from .harness import AUTH_SECRET
from .hocus_client import HocusClient
from .interop.peer import NodePeer

__all__ = ["Deployment", "Typists", "create_session", "read_text", "two_gateways"]

SPEC = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}
SIGNING_SECRET = "deployment-test-signing-secret-" + "y" * 32


@dataclass
class Deployment:
    head: RayHead
    redis: RedisProcess
    gateways: list[GatewayProcess]
    namespace: str

    def env(self, name: str, work: Path, database_url: str) -> dict[str, str]:
        return {
            "RAY_ADDRESS": self.head.address,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "ATELIER_DATA_DIR": str(work / f"data-{name}"),
            "ATELIER_RAY_NAMESPACE": self.namespace,
            "ATELIER_AUTH_SECRET": AUTH_SECRET,
            "ATELIER_WORKSPACE_SIGNING_SECRET": SIGNING_SECRET,
            "ATELIER_HOSTS": "2",
        }


@asynccontextmanager
async def two_gateways(work: Path, database_url: str) -> AsyncIterator[Deployment]:
    """Everything started here is stopped by PID on the way out, whatever happened."""
    head = RayHead()
    redis = RedisProcess(work / "redis")
    deployment = Deployment(head, redis, [], f"deploy-{uuid.uuid4().hex[:8]}")
    try:
        await asyncio.to_thread(head.start)
        redis.start()
        for name in ("gw-a", "gw-b"):
            gw = GatewayProcess(name, work, deployment.env(name, work, database_url))
            deployment.gateways.append(gw)
            gw.start()
        await asyncio.gather(*(gw.wait_ready() for gw in deployment.gateways))
        yield deployment
    finally:
        for gw in deployment.gateways:
            gw.stop()
        redis.stop()
        await asyncio.to_thread(head.stop)


async def create_session(base_url: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base_url}/api/sessions", json={"name": "deploy", "spec": SPEC}) as response,
    ):
        body = await response.json()
        assert response.status == 201, body
        session_id: str = body["session"]["id"]
        return session_id


async def read_text(base_url: str, session_id: str) -> str:
    """The session's text as a fresh client of this gateway receives it (not via the peers)."""
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    async with HocusClient(ws_url) as client:
        await client.open(session_id)
        return client.text(session_id)


@dataclass
class Typists:
    """Peers of one session typing distinct tokens; counts inserted and acknowledged edits."""

    node: NodePeer
    peers: list[str]
    inserted: dict[str, int] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for peer in self.peers:
            self.inserted.setdefault(peer, 0)
            self.acked.setdefault(peer, 0)

    @staticmethod
    def token(peer: str, n: int) -> str:
        return f"<{peer}:{n}>"

    async def _state(self, peer: str) -> dict[str, Any]:
        return await self.node.state(peer)

    async def type_round(self) -> None:
        """Each peer: note what is acknowledged so far, then type one more token."""
        for peer in self.peers:
            state = await self._state(peer)
            if state["synced"] and state["unsynced"] == 0:
                self.acked[peer] = self.inserted[peer]
            await self.node.call("insertText", peer=peer, text=self.token(peer, self.inserted[peer]))
            self.inserted[peer] += 1

    async def type(self, rounds: int, interval: float) -> None:
        for _ in range(rounds):
            await self.type_round()
            await asyncio.sleep(interval)  # pacing the typing, not synchronising on anything

    async def settle(self, timeout: float = 90.0) -> None:  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        """Wait until the server acknowledged everything each peer typed."""
        for peer in self.peers:
            await self.node.wait_state(peer, lambda s: bool(s["synced"]) and s["unsynced"] == 0, timeout)
            self.acked[peer] = self.inserted[peer]

    def tokens(self) -> list[str]:
        return [self.token(p, n) for p in self.peers for n in range(self.inserted[p])]

    def acked_tokens(self, acked: dict[str, int] | None = None) -> list[str]:
        counts = acked if acked is not None else self.acked
        return [self.token(p, n) for p in self.peers for n in range(counts[p])]

    async def texts(self) -> dict[str, str]:
        return {peer: await self.node.text(peer) for peer in self.peers}

    async def converged(self, timeout: float = 60.0) -> str:  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        """The one text every peer shows, once they all show the same one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            texts = await self.texts()
            if len(set(texts.values())) == 1:
                return next(iter(texts.values()))
            if loop.time() > deadline:
                raise AssertionError(f"peers never converged: {texts}")
            await asyncio.sleep(0.05)
