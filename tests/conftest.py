"""Run-wide fixtures: one local Ray cluster, real Postgres and Redis, gateways per store."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from actors.runtime import RAY_ENV

for _key, _value in RAY_ENV.items():
    os.environ.setdefault(_key, _value)

import ray  # noqa: E402  (Ray reads the environment above when imported and started)

from .harness import Gateway, gateway_settings  # noqa: E402
from .services import postgres_dsn, redis_url  # noqa: E402

STORES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    temp = Path("/tmp") / f"atelier-ray-{os.getpid()}"
    temp.mkdir(parents=True, exist_ok=True)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(temp),
        namespace="atelier-tests",
        log_to_driver=bool(os.environ.get("ATELIER_TEST_RAY_LOGS")),
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres_dsn(tmp_path_factory.mktemp("pg")) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_url(tmp_path_factory.mktemp("redis")) as url:
        yield url


def store_url(kind: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("pg_url") if kind == "postgres" else None


@pytest.fixture(scope="session", params=STORES)
async def gateway(
    request: pytest.FixtureRequest, ray_cluster: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """A long-lived gateway per store kind, shared by the API tests."""
    settings = gateway_settings(
        database_url=store_url(request.param, request),
        data_dir=tmp_path_factory.mktemp(f"data-{request.param}"),
        presence_timeout=1.5,
    )
    gw = await Gateway(settings).start()
    try:
        yield gw
    finally:
        await gw.stop()


@pytest.fixture(params=STORES)
async def make_gateway(
    request: pytest.FixtureRequest, ray_cluster: None, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    """Start gateways with their own settings (per store kind); all stopped afterwards."""
    started: list[Gateway] = []
    database_url = store_url(request.param, request)

    async def start(**actor_overrides: Any) -> Gateway:
        redis = actor_overrides.pop("redis_url", None)
        namespace = actor_overrides.pop("namespace", None)
        settings = gateway_settings(
            database_url=database_url,
            data_dir=actor_overrides.pop("data_dir", tmp_path / "data"),
            redis_url=redis,
            namespace=namespace,
            **actor_overrides,
        )
        gw = await Gateway(settings).start()
        started.append(gw)
        return gw

    try:
        yield start
    finally:
        for gw in started:
            await gw.stop()
