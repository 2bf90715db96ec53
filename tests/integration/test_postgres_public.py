"""Nothing atelier does puts a table into Postgres's ``public`` schema (issue 11, item 5).

A fresh database, a gateway on it, every API used once (Bridge edits and versions, a design
stage run with its event log, PLM records, a workspace project, session, message and run):
afterwards ``public`` is as empty as it was, and the tables are in the configured schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ..engine_api import create_session, run_action
from ..harness import Gateway, bearer, gateway_settings
from ..services import postgres_dsn

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {"root": "r", "elements": {"r": {"type": "Card", "props": {}}}}


async def _relations(dsn: str) -> dict[str, set[str]]:
    """Every table, view, sequence and index outside the system schemas, by schema."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT n.nspname AS schema, c.relname AS name FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
        )
    finally:
        await conn.close()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["schema"], set()).add(row["name"])
    return found


async def _use_every_api(gw: Gateway) -> None:
    session_id = await gw.create(spec=SPEC)
    status, body = await gw.request(
        "POST",
        f"/api/sessions/{session_id}/ops",
        json={"ops": [{"op": "set_prop", "key": "r", "prop": "n", "value": 1}]},
    )
    assert status == 200, body
    status, body = await gw.request("POST", f"/api/sessions/{session_id}/versions", json={"label": "v1"})
    assert status == 201, body

    sid = await create_session(gw, "ada", "A garden bench")
    assert (await run_action(gw, "ada", sid, {"action": "start_requirements"}))[-1].event == "done"

    status, body = await gw.request(
        "POST", "/api/v1/projects", headers=bearer("ada"), json={"name": "Widget R&D", "fiscalYear": "2025"}
    )
    assert status == 201, body
    project = body["project"]["id"]
    status, body = await gw.request(
        "POST",
        f"/api/v1/projects/{project}/sessions",
        headers=bearer("ada"),
        json={"type": "T661", "title": "Claim"},
    )
    assert status == 201, body
    work = body["session"]["id"]
    status, body = await gw.request(
        "POST",
        f"/api/v1/sessions/{work}/runs",
        headers=bearer("ada"),
        json={"type": "T661", "input": "Summarise the project"},
    )
    assert status == 200, body
    assert body["python"]["status"] == "succeeded", body


async def test_nothing_lands_in_public(ray_cluster: None, tmp_path: Path) -> None:
    with postgres_dsn(tmp_path / "pg") as dsn:
        before = await _relations(dsn)
        assert before.get("public", set()) == set()
        gw = await Gateway(gateway_settings(database_url=dsn, data_dir=tmp_path / "data")).start()
        try:
            await _use_every_api(gw)
        finally:
            await gw.stop()
        after = await _relations(dsn)
        assert after.get("public", set()) == set(), f"tables created in public: {sorted(after['public'])}"
        schema = gw.settings.storage.pg_schema
        assert gw.settings.storage.engine_pg_schema == schema == "atelier"
        tables = after[schema]
        for expected in (
            "atelier_sessions",
            "atelier_updates",
            "atelier_snapshots",
            "atelier_bridge_migrations",
            "design_sessions",
            "design_session_events",
            "items",
            "workspace_projects",
            "workspace_runs",
        ):
            assert expected in tables, (expected, sorted(tables))
        assert set(after) == {schema}, sorted(after)
