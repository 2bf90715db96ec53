"""Fixtures for tests that drive the real @hocuspocus/provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .npm import ensure_node_modules
from .peer import NodePeer


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return ensure_node_modules()


@pytest.fixture
async def node(node_modules: Path) -> AsyncIterator[NodePeer]:
    async with NodePeer() as peer:
        yield peer
