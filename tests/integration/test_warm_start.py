"""`atelier serve` warms its session layer in the background: it listens first, says when the
hosts, store owner, run workers and a CAD worker are up, and the first run finds them started."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from ..cluster_procs import GatewayProcess, lines_starting, local_serve, tail
from ..harness import AUTH_SECRET, bearer, wait_until

pytestmark = pytest.mark.integration


def _actor_pids(gateway: GatewayProcess, title: str) -> set[int]:
    """PIDs of the serve's Ray worker processes titled ``ray::<title>`` (Ray names them so)."""
    pids = set()
    for process in gateway.descendants():
        try:
            if process.name() == f"ray::{title}" or process.name().startswith(f"ray::{title}."):
                pids.add(process.pid)
        except psutil.NoSuchProcess:
            continue
    return pids


async def _get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get(path) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def _created(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(path, json=body, headers=bearer("ada")) as response:
        assert response.status == 201, await response.text()
        created: dict[str, Any] = await response.json()
        return created


async def test_warm_up_is_announced_and_the_first_run_finds_the_workers_started(tmp_path: Path) -> None:
    with local_serve(
        "warm",
        tmp_path,
        ATELIER_WORKSPACE_WORKERS="2",
        ATELIER_CAD_WARM="1",
        ATELIER_WARM_TIMEOUT="240",
        ATELIER_RAY_NAMESPACE="warm-start",
        ATELIER_AUTH_SECRET=AUTH_SECRET,
    ) as gateway:
        gateway.start()
        await gateway.wait_ready(timeout=240)
        async with aiohttp.ClientSession(gateway.url) as http:
            status, health = await wait_until(
                lambda: _get(http, "/ready"), lambda got: got[1].get("ready") is True, timeout=240
            )
            assert status == 200, health
            assert health["warm"]["hosts"] == 1, health
            assert health["warm"]["storeOwner"] is True, health
            assert health["warm"]["runWorkers"] == 2, health
            assert health["warm"]["cadWorker"] is True, health
            assert health["warm"]["error"] is None, health
            _, metrics = await _get(http, "/metrics")
            assert re.search(r"^atelier_ready 1\.0$", metrics, re.MULTILINE), metrics

            ready = await wait_until(lambda: lines_starting(gateway.log, "atelier ready "), bool, timeout=30)
            assert len(ready) == 1, tail(gateway.log)
            assert re.fullmatch(
                r"atelier ready in \d+\.\ds: 1 hosts, store owner, 2 run workers, CAD worker warm", ready[0]
            ), ready[0]
            log = gateway.log.read_text(errors="replace").splitlines()
            serving = next(i for i, line in enumerate(log) if line.startswith("atelier serving "))
            assert serving < log.index(ready[0]), tail(gateway.log)  # listening came first

            # The run workers exist before any run, and the first run uses them: no new ones.
            workers = _actor_pids(gateway, "RunWorker")
            assert len(workers) == 2, [p.name() for p in gateway.descendants()]
            project = (await _created(http, "/api/v1/projects", {"name": "Warm", "fiscalYear": "2025"}))[
                "project"
            ]["id"]
            path = f"/api/v1/projects/{project}/sessions"
            session = (await _created(http, path, {"type": "T661", "title": "Claim"}))["session"]["id"]
            async with http.post(
                f"/api/v1/sessions/{session}/runs",
                json={"type": "T661", "input": "Draft"},
                headers=bearer("ada"),
            ) as response:
                body = await response.json()
                assert response.status == 200, body
            assert body["python"]["status"] == "succeeded", body
            assert _actor_pids(gateway, "RunWorker") == workers


async def test_requests_made_while_warming_are_served(tmp_path: Path) -> None:
    """The gateway listens before the layer is warm; a request then waits for the same start."""
    with local_serve("early", tmp_path, ATELIER_RAY_NAMESPACE="warm-early") as gateway:
        gateway.start()
        async with aiohttp.ClientSession(gateway.url) as http:
            # The first answer /ready gives; whether the layer is warm yet is up to the machine.
            await wait_until(lambda: _health_or_none(http), lambda got: got is not None, timeout=240)
            async with http.post("/api/sessions", json={"name": "early"}) as response:
                assert response.status == 201, await response.text()
            _, health = await wait_until(
                lambda: _get(http, "/ready"), lambda got: got[1].get("ready") is True, timeout=240
            )
            assert health["warm"]["hosts"] == 1, health
            assert health["warm"]["cadWorker"] is None, health  # not asked for by default
        assert len(_actor_pids(gateway, "SessionHost")) == 1, [p.name() for p in gateway.descendants()]
        ready = lines_starting(gateway.log, "atelier ready ")
        assert len(ready) == 1, tail(gateway.log)
        assert re.fullmatch(r"atelier ready in \d+\.\ds: 1 hosts, store owner, 2 run workers", ready[0]), (
            ready[0]
        )


async def _health_or_none(http: aiohttp.ClientSession) -> dict[str, Any] | None:
    try:
        _, body = await _get(http, "/ready")
    except aiohttp.ClientError:
        return None  # not listening yet
    return dict(body)
