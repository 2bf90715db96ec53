"""Gateway apps built in the test process on the local session client (no Ray cluster)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from actors.client import LocalSessionClient
from actors.engine.settings import EngineSettings
from actors.llm.settings import LlmSettings
from actors.settings import ActorSettings
from gateway.app import build_app
from gateway.auth import AuthSettings
from gateway.settings import Settings
from storage.settings import StorageSettings

from ..harness import AUTH_SECRET

__all__ = ["ClientFactory", "local_app", "offline_actors", "token_auth"]

# pytest-aiohttp's ``aiohttp_client`` fixture: an app in, a test client bound to it out.
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def token_auth(*, bridge_auth: bool = False) -> AuthSettings:
    """Auth that accepts ``harness.bearer`` tokens."""
    return AuthSettings(secret=AUTH_SECRET, bridge_auth=bridge_auth)


def offline_actors(offline_delay: float) -> ActorSettings:
    """Actor settings whose offline provider pauses ``offline_delay`` s between text deltas."""
    return ActorSettings(engine=EngineSettings(llm=LlmSettings(offline_delay=offline_delay)))


def local_app(data_dir: Path, actors: ActorSettings | None = None, **settings: Any) -> web.Application:
    """A gateway app storing under ``data_dir``; ``settings`` are the gateway's other fields."""
    actors = actors or ActorSettings()
    storage = StorageSettings(data_dir=data_dir)
    return build_app(
        Settings(actors=actors, storage=storage, **settings), LocalSessionClient(actors, storage)
    )
