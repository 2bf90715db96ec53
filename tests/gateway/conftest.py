"""The gateway's tests: apps on the local session client, driven by pytest-aiohttp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from .local import ClientFactory, local_app, token_auth


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    """A gateway with default settings that accepts ``harness.bearer`` tokens. A module whose
    tests need other settings overrides this fixture with its own ``local_app(...)``."""
    return await aiohttp_client(local_app(tmp_path, auth=token_auth()))
