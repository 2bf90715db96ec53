"""`atelier serve` as an operator runs it: the start-up line, then the shutdown line on SIGTERM."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import aiohttp
import pytest

from ..cluster_procs import GatewayProcess, tail

pytestmark = pytest.mark.integration


def _lines(log: Path, prefix: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if line.startswith(prefix)]


async def test_start_up_and_shutdown_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Ray's socket paths must stay short: its temp dir lives directly under /tmp.
    ray_temp = Path(tempfile.mkdtemp(prefix="atelier-serve-", dir="/tmp"))
    gateway = GatewayProcess(
        "serve",
        tmp_path,
        {
            "ATELIER_DATA_DIR": str(data),
            "ATELIER_RAY_TEMP_DIR": str(ray_temp),
            "ATELIER_RAY_NUM_CPUS": "2",
            "ATELIER_HOSTS": "1",
            "ATELIER_RAY_NAMESPACE": "serve-lines",
            "OPENAI_API_KEY": "",
            "ATELIER_OBJECTS_URL": "",
        },
    )
    try:
        gateway.start()
        await gateway.wait_ready(timeout=240)
        started = _lines(gateway.log, "atelier serving ")
        assert started == [
            f"atelier serving http://127.0.0.1:{gateway.port} store=sqlite({data}/atelier.sqlite3) "
            f"bus=in-process placement=dense hosts=1 llm=offline objects=local({data}/objects) "
            "ray=local namespace=serve-lines"
        ], tail(gateway.log)
        async with (
            aiohttp.ClientSession(gateway.url) as http,
            http.post("/api/sessions", json={"name": "kept"}) as response,
        ):
            assert response.status == 201, await response.text()
        gateway.stop()  # SIGTERM, as systemd or Ctrl-C would
        assert gateway.process is not None, tail(gateway.log)
        assert gateway.process.returncode == 0, tail(gateway.log)
        stopped = _lines(gateway.log, "atelier stopped ")
        assert len(stopped) == 1, tail(gateway.log)
        assert re.fullmatch(
            r"atelier stopped in \d+\.\ds after \d+(s|m\d\ds) up: closed 0 WebSockets and 0 SSE streams, "
            r"session layer stopped \(1 live sessions checkpointed, 1 hosts\), local Ray shut down",
            stopped[0],
        ), stopped[0]
    finally:
        gateway.stop()
        shutil.rmtree(ray_temp, ignore_errors=True)
