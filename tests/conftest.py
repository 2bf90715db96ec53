"""Run-wide fixtures: one local Ray cluster, real Postgres and Redis, gateways per store."""

from __future__ import annotations

import inspect
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

# The slow parts, marked here in one table so that ``pytest -m "not slow"`` stays a quick loop
# (the full suite, the README's and CI's run, still runs them all). Each kind is a marker of
# its own and also ``slow``. A key is a folder, a module or one test's node id (without its
# parameters), relative to tests/.
SLOW_PARTS: dict[str, tuple[str, ...]] = {
    # a headless chromium driving the pages
    "web": ("web/",),
    # schemathesis generating requests against a live gateway
    "schemathesis": ("integration/test_openapi_schemathesis.py",),
    # hosts, gateways, Postgres or the LLM killed or broken under load, and the fuzzer
    "faults": (
        "integration/test_faults_host_kill.py",
        "integration/test_faults_llm.py",
        "integration/test_faults_postgres.py",
        "integration/test_gateways_cluster.py",
        "integration/test_gateways_local_kill.py",
        "integration/test_multinode.py",
        "integration/test_ws_fuzz.py",
    ),
    # benchmark smoke runs that start servers or clusters
    "bench": (
        "benchmarks/test_smoke.py",
        "benchmarks/test_api_smoke.py",
        "benchmarks/test_ray_load.py",
        "benchmarks/test_remote.py::test_url_run_measures_what_a_managed_run_measures",
        "benchmarks/test_remote.py::test_url_against_a_y_websocket_server_through_the_cli",
        "benchmarks/test_cad.py::test_smoke_on_the_suites_ray",
        "benchmarks/test_profile_smoke.py",
    ),
    # measured at 10-50 s each here: a gateway served from a subprocess, CAD on Ray workers
    # (also every test that starts gateways of its own: see OWN_GATEWAYS)
    "long": (
        "integration/test_serve_lines.py",
        "integration/test_materialize_cad.py",
    ),
}
# A test asking for one of these itself starts gateways (and their Ray actors) of its own,
# 5-60 s each here, where the shared ``gateway`` fixture's tests take well under a second.
OWN_GATEWAYS = frozenset({"make_gateway", "ray_cluster"})
TESTS = Path(__file__).resolve().parent


def _slow_kinds(item: pytest.Item) -> list[str]:
    where = item.path.relative_to(TESTS).as_posix()
    node = f"{where}::{item.originalname}" if isinstance(item, pytest.Function) else where
    kinds = [
        kind
        for kind, keys in SLOW_PARTS.items()
        if any(node == key or where == key or (key.endswith("/") and where.startswith(key)) for key in keys)
    ]
    own = isinstance(item, pytest.Function) and OWN_GATEWAYS & set(inspect.signature(item.obj).parameters)
    if own and not kinds:
        kinds.append("long")
    return kinds


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        kinds = _slow_kinds(item)
        for kind in kinds:
            item.add_marker(kind)
        if kinds:
            item.add_marker("slow")


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
