"""Postgres connections stay bounded however many session actors are live."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from ..harness import Gateway, gateway_settings

pytestmark = pytest.mark.integration

SPEC = {"root": "r", "elements": {"r": {"type": "Card", "props": {}, "children": []}}}


async def _connections(pg_url: str, application_name: str) -> int:
    conn = await asyncpg.connect(pg_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
    finally:
        await conn.close()
    return count


async def test_many_live_sessions_share_one_bounded_pool(
    ray_cluster: None, pg_url: str, tmp_path: Path
) -> None:
    limit = 3
    application_name = f"atelier-test-{uuid.uuid4().hex[:8]}"
    settings = gateway_settings(
        database_url=pg_url,
        data_dir=tmp_path,
        storage_overrides={"pg_max_connections": limit, "pg_application_name": application_name},
    )
    gw = await Gateway(settings).start()
    try:
        ids = await asyncio.gather(*(gw.create(spec=SPEC) for _ in range(24)))
        peak = 0

        async def edit(session_id: str) -> None:
            for n in range(5):
                status, body = await gw.request(
                    "POST",
                    f"/api/sessions/{session_id}/ops",
                    json={"ops": [{"op": "set_prop", "key": "r", "prop": "n", "value": n}]},
                )
                assert status == 200
                assert body["applied"] == 1

        editing = asyncio.gather(*(edit(session_id) for session_id in ids))
        while not editing.done():
            peak = max(peak, await _connections(pg_url, application_name))
            await asyncio.sleep(0.02)
        await editing
        assert len(set(ids)) == 24
        assert 1 <= peak <= limit
        for session_id in ids:
            _, state = await gw.request("GET", f"/api/sessions/{session_id}/state")
            assert state["spec"]["elements"]["r"]["props"]["n"] == 4
    finally:
        await gw.stop()
