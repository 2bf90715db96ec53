"""Starting real gateways inside the test process, against the run's Ray cluster."""

from __future__ import annotations

import asyncio
import inspect
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import ray
from aiohttp import web

from actors.client import SessionClient
from actors.engine.settings import EngineSettings
from actors.llm.settings import LlmSettings
from actors.placement import PLACEMENT_ACTOR_NAME
from actors.settings import ActorSettings, Placement
from gateway.app import build_app
from gateway.auth import AuthSettings, mint_token
from gateway.settings import Settings
from gateway.state import SESSIONS
from storage import LoadedDoc, make_store
from storage.settings import StorageSettings

__all__ = ["AUTH_SECRET", "Gateway", "MakeGateway", "bearer", "gateway_settings", "token", "wait_until"]

AUTH_SECRET = "test-secret-" + "x" * 32


# Listening sockets bound when a gateway's settings are made, served when it starts.
_RESERVED: dict[int, socket.socket] = {}
# Seconds a test gateway may take to warm its session layer (hosts, store owner, run workers).
WARM_TIMEOUT = 240.0


def _reserve_port() -> int:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    _RESERVED[port] = sock
    return port


def token(user: str) -> str:
    """A token for ``user`` that every test gateway accepts."""
    return mint_token(AUTH_SECRET, user, 3600)


def bearer(user: str, key: str | None = None) -> dict[str, str]:
    """An Authorization header for ``user`` that every test gateway accepts (and an
    Idempotency-Key header when ``key`` is given)."""
    headers = {"Authorization": f"Bearer {token(user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


T = TypeVar("T")


def gateway_settings(
    *,
    database_url: str | None,
    data_dir: Path,
    redis_url: str | None = None,
    namespace: str | None = None,
    storage_overrides: dict[str, Any] | None = None,
    llm: LlmSettings | None = None,
    **actor_overrides: Any,
) -> Settings:
    if "placement" in actor_overrides:
        actor_overrides["placement"] = Placement(actor_overrides["placement"])
    actors = replace(
        ActorSettings(),
        namespace=namespace or f"test-{uuid.uuid4().hex[:8]}",
        engine=EngineSettings(llm=llm or LlmSettings()),
        **actor_overrides,
    )
    storage = StorageSettings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        **(storage_overrides or {}),
    )
    return Settings(
        host="127.0.0.1",
        port=_reserve_port(),
        actors=actors,
        storage=storage,
        auth=AuthSettings(secret=AUTH_SECRET),
    )


class Gateway:
    """A running gateway app on a loopback port, with an HTTP client bound to it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = build_app(settings)
        self._runner = web.AppRunner(self.app)
        self.http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}"

    @property
    def sessions(self) -> SessionClient:
        return self.app[SESSIONS]

    def placement(self) -> Any:
        return ray.get_actor(PLACEMENT_ACTOR_NAME, namespace=self.settings.actors.namespace)

    async def host_pid(self, session_id: str) -> int:
        return await self.sessions.host_pid(session_id)

    async def load(self, session_id: str) -> LoadedDoc | None:
        """What the store holds for a session, read directly (not through the session)."""
        store = make_store(self.settings.storage)
        await store.open()
        try:
            return await store.load(session_id)
        finally:
            await store.close()

    async def start(self) -> Gateway:
        await self._runner.setup()
        # Served on the socket reserved with the port: nothing else can take it meanwhile
        # (hosts' link listeners bind ephemeral ports all the time).
        reserved = _RESERVED.pop(self.settings.port, None)
        if reserved is not None:
            await web.SockSite(self._runner, reserved).start()
        else:  # the same settings started again (a restart test): the port is free again
            await web.TCPSite(self._runner, "127.0.0.1", self.settings.port).start()
        self.http = aiohttp.ClientSession(self.url)
        # A served gateway warms its session layer in the background; tests start from a warm
        # one, as the gateway did before it listened early (a test of the warm-up itself
        # starts `atelier serve`).
        warmth = await asyncio.wait_for(self.sessions.warmed(), WARM_TIMEOUT)
        assert warmth.ready, warmth
        return self

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        await self._runner.cleanup()
        # Session and store actors are detached: end this gateway's ones so each test
        # leaves the shared Ray cluster (and the store's connections) as it found them.
        namespace = self.settings.actors.namespace
        for actor in ray.util.list_named_actors(all_namespaces=True):
            if actor["namespace"] == namespace:
                try:
                    ray.kill(ray.get_actor(actor["name"], namespace=namespace), no_restart=True)
                except ValueError:
                    continue  # already gone

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.request(method, path, **kwargs) as response:
            body = await response.json(content_type=None)
            return response.status, body

    async def create(self, **body: Any) -> str:
        status, payload = await self.request("POST", "/api/sessions", json=body)
        assert status == 201, payload
        session_id: str = payload["session"]["id"]
        return session_id


# The ``make_gateway`` fixture (tests/conftest.py): starts a gateway with the given settings.
MakeGateway = Callable[..., Awaitable[Gateway]]


async def wait_until(
    probe: Callable[[], Awaitable[T] | T],
    accept: Callable[[T], bool],
    *,
    timeout: float = 20.0,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
    interval: float = 0.05,
) -> T:
    """Poll ``probe`` (sync or async) until ``accept`` holds, within ``timeout``; returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = probe()
        value: T = await got if inspect.isawaitable(got) else got  # type: ignore[assignment]
        if accept(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)
