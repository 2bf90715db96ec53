"""The start-up and shutdown lines of `atelier serve` (gateway.banner), by value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from actors.client import Warmth
from actors.llm.settings import LlmSettings
from actors.settings import ActorSettings, Placement
from gateway.banner import Stopped, ready_line, shutdown_line, startup_line
from gateway.settings import Settings
from storage.settings import StorageSettings


def _settings(**storage: Any) -> Settings:
    return Settings(host="127.0.0.1", port=4321, storage=StorageSettings(data_dir=Path("data"), **storage))


def test_defaults_name_every_part() -> None:
    line = startup_line(_settings(), 2)
    assert line == (
        "atelier serving http://127.0.0.1:4321 store=sqlite(data/atelier.sqlite3) bus=in-process "
        "placement=dense hosts=2 llm=offline objects=local(data/objects) ray=local namespace=atelier"
    )


def test_services_without_secrets() -> None:
    settings = _settings(
        database_url="postgresql://alice:s3cret@db.internal:6543/atelier?sslmode=require",
        redis_url="redis://:hunter2@cache:6380/2",
        objects_url="s3://bucket/designs",
        pg_schema="prod",
    )
    llm = LlmSettings(api_key="sk-key", base_url="https://llm.example:8443/v1", model="gpt-x")
    engine = replace(settings.actors.engine, llm=llm)
    workspace = replace(settings.actors.workspace, llm=llm)
    actors = replace(ActorSettings(), engine=engine, workspace=workspace, placement=Placement.ISOLATED)
    line = startup_line(replace(settings, actors=actors, ray_address="10.0.0.1:6379"), None)
    assert "store=postgres(db.internal:6543/atelier schema=prod)" in line
    assert "bus=redis(cache:6380/2)" in line
    assert "objects=s3://bucket/designs" in line
    assert "llm=openai(gpt-x at llm.example:8443/v1)" in line
    assert "workspace-llm" not in line
    assert "placement=isolated hosts=? (pool 2)" in line
    assert "ray=joined 10.0.0.1:6379" in line
    for secret in ("alice", "s3cret", "hunter2", "sk-key", "sslmode"):
        assert secret not in line


def test_two_llms_are_both_named() -> None:
    settings = _settings(objects_url="file:///srv/objects")
    engine = replace(settings.actors.engine, llm=LlmSettings(api_key="k", model="m1"))
    line = startup_line(replace(settings, actors=replace(settings.actors, engine=engine)), 1)
    assert "llm=openai(m1 at api.openai.com) workspace-llm=offline" in line
    assert "objects=local(/srv/objects)" in line


def test_shutdown_lines() -> None:
    owned = Stopped(sockets=3, streams=1, sessions=12, hosts=2, owned_layer=True)
    assert shutdown_line(owned, 1.234, 65.4) == (
        "atelier stopped in 1.2s after 1m05s up: closed 3 WebSockets and 1 SSE streams, "
        "session layer stopped (12 live sessions checkpointed, 2 hosts), local Ray shut down"
    )
    joined = Stopped(sockets=0, streams=0, sessions=None, hosts=None, owned_layer=False)
    line = shutdown_line(joined, 0.04, 7300)
    assert line.startswith("atelier stopped in 0.0s after 2h01m up:")
    assert line.endswith("left the cluster's session layer running (? live sessions)")


def test_ready_lines() -> None:
    warm = Warmth(3.0, hosts=2, store_owner=True, run_workers=2, cad_worker=True)
    assert (
        ready_line(warm, 3.24)
        == "atelier ready in 3.2s: 2 hosts, store owner, 2 run workers, CAD worker warm"
    )
    cold_cad = replace(warm, cad_worker=None)
    assert ready_line(cold_cad, 3.0) == "atelier ready in 3.0s: 2 hosts, store owner, 2 run workers"
    failed_cad = replace(warm, cad_worker=False)
    assert ready_line(failed_cad, 3.0).endswith("2 run workers, CAD worker failed to warm")
    late = Warmth(120.0, error="not warm within 120s (ATELIER_WARM_TIMEOUT)")
    assert not late.ready
    assert ready_line(late, 121.0) == (
        "atelier not ready after 121.0s: not warm within 120s (ATELIER_WARM_TIMEOUT) "
        "(requests start what they need)"
    )


def test_warmth_from_the_directory_and_as_json() -> None:
    warm = Warmth.from_placement(2.5, {"hosts": 1, "runWorkers": 2, "cadWorker": None})
    assert warm.ready
    assert warm.to_json() == {
        "ready": True,
        "seconds": 2.5,
        "hosts": 1,
        "storeOwner": True,
        "runWorkers": 2,
        "cadWorker": None,
        "error": None,
    }


def test_target_hosts() -> None:
    assert ActorSettings().target_hosts(4.0) == 4
    assert ActorSettings(hosts=1).target_hosts(4.0) == 1
    assert ActorSettings().target_hosts(0.0) == 1
    assert ActorSettings(placement=Placement.ISOLATED, isolated_pool=3).target_hosts(8.0) == 3
