"""A SIGKILLed `atelier serve` takes its local Ray with it, promptly.

Ray ties its head processes to the driver, but the raylet's agents used to wait out a
60 s GCS timeout after an unexpected raylet death (see actors/reaper.py). The gateway
runs in a child process with a Ray of its own (no RAY_ADDRESS), so the test process's
run-wide Ray is not involved.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from ..cluster_procs import GatewayProcess, tail
from ..deployment import create_session
from ..harness import AUTH_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

BOUND = 20.0  # seconds every process of the dead gateway's Ray may take to go


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def _describe(processes: list[psutil.Process]) -> list[str]:
    names = []
    for process in processes:
        try:
            names.append(f"{process.pid}:{' '.join(process.cmdline())[:60]}")
        except psutil.Error:
            names.append(f"{process.pid}:?")
    return names


async def test_local_ray_goes_with_a_sigkilled_gateway(tmp_path: Path) -> None:
    ray_temp = Path(tempfile.mkdtemp(prefix="atelier-kill-", dir="/tmp"))  # Unix socket paths stay short
    gateway = GatewayProcess(
        "local",
        tmp_path,
        {
            "ATELIER_DATA_DIR": str(tmp_path / "data"),
            "ATELIER_RAY_TEMP_DIR": str(ray_temp),
            "ATELIER_RAY_NUM_CPUS": "2",
            "ATELIER_AUTH_SECRET": AUTH_SECRET,
        },
    )
    survivors: list[psutil.Process] = []
    try:
        gateway.start()
        await gateway.wait_ready()
        await create_session(gateway.url)  # hosts and the store owner are at work
        processes = gateway.descendants()
        names = " ".join(_describe(processes))
        # What used to linger: the raylet's agents; and the session layer's actors.
        for expected in (
            "ray::DashboardAgent",
            "ray::RuntimeEnvAgent",
            "ray::Placement",
            "ray::StoreService",
            "ray::SessionHost",
            "actors.reaper",
        ):
            assert expected in names, f"{expected} not running: {names}"
        gateway.kill()
        killed = time.monotonic()
        while survivors := _alive(processes):
            if time.monotonic() - killed > BOUND:
                break
            await asyncio.sleep(0.1)  # polling the process table; bounded by BOUND
        gone_after = time.monotonic() - killed
        assert not survivors, f"still running {BOUND} s after the kill: {_describe(survivors)}"
        assert not (ray_temp / "ray_current_cluster").exists()
        print(
            f"\nlocal gateway SIGKILL: all {len(processes)} Ray processes (agents, placement, store, hosts,"
            f" workers) gone {gone_after:.1f} s after the kill (was ~62 s for the agents before the reaper)"
        )
    finally:
        gateway.stop()
        for process in _alive(survivors):
            process.send_signal(signal.SIGKILL)  # ours: descendants of the gateway we started
        if survivors:
            print(tail(gateway.log))
        shutil.rmtree(ray_temp, ignore_errors=True)
