"""A real store per backend, opened fresh in a temporary place for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Store, make_store
from storage.settings import StorageSettings


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    instance = make_store(StorageSettings(database_url=url, data_dir=tmp_path))
    await instance.open()
    try:
        yield instance
    finally:
        await instance.close()
