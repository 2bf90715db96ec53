"""`atelier serve` as an operator runs it: the start-up line, then the shutdown line on SIGTERM."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from ..cluster_procs import lines_starting, local_serve, tail

pytestmark = pytest.mark.integration


async def test_start_up_and_shutdown_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with local_serve("serve", tmp_path, ATELIER_RAY_NAMESPACE="serve-lines") as gateway:
        gateway.start()
        await gateway.wait_ready(timeout=240)
        started = lines_starting(gateway.log, "atelier serving ")
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
        stopped = lines_starting(gateway.log, "atelier stopped ")
        assert len(stopped) == 1, tail(gateway.log)
        assert re.fullmatch(
            r"atelier stopped in \d+\.\ds after \d+(s|m\d\ds) up: closed 0 WebSockets and 0 SSE streams, "
            r"session layer stopped \(1 live sessions checkpointed, 1 hosts\), local Ray shut down",
            stopped[0],
        ), stopped[0]
