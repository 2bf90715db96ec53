"""Real stores per backend (SQLite file, Postgres), opened fresh in a temporary place for
each test. A module that tests the engine or workspace store sets ``PLACE`` to its kind
(``places.EnginePlace``, ``places.WorkspacePlace``); in the others ``store`` is the session store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import make_store
from storage.settings import StorageSettings

from .places import Place, new_place

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """The Postgres URL on the postgres backend, None on SQLite (so SQLite needs no Postgres)."""
    return request.getfixturevalue("pg_url") if request.param == "postgres" else None


@pytest.fixture
async def place(
    request: pytest.FixtureRequest, backend_url: str | None, tmp_path: Path
) -> AsyncIterator[Place | None]:
    """A fresh place for the module's ``PLACE`` kind; None in a module without one."""
    place_type: type[Place] | None = getattr(request.module, "PLACE", None)
    if place_type is None:
        yield None
        return
    kind = "sqlite" if backend_url is None else "postgres"
    async with new_place(place_type, kind, backend_url, tmp_path) as spot:
        yield spot


@pytest.fixture
async def store(place: Any, backend_url: str | None, tmp_path: Path) -> AsyncIterator[Any]:
    """The module's kind of store opened in ``place``, or else the session store."""
    if place is not None:
        async with place.store() as opened:
            yield opened
        return
    instance = make_store(StorageSettings(database_url=backend_url, data_dir=tmp_path))
    await instance.open()
    try:
        yield instance
    finally:
        await instance.close()
