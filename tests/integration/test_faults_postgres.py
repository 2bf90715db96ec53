"""Postgres connections killed and Postgres restarted under load: acks pause and resume, nothing is lost.

The test runs its own throwaway Postgres (never the machine's shared one) and keeps editors
and agents working while it (1) terminates every atelier connection with
``pg_terminate_backend`` and (2) stops the server for longer than the REST call timeout, then
starts it again. WebSocket acks must only be delayed (no ``SyncStatus(0)``, no close), REST
calls must answer 200 or 503 with ``Retry-After`` (never 500), and every acknowledged edit
must be in the store afterwards. The store owner's and hosts' logs must show the retries as
warnings, without a traceback, since every retry succeeded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import ray
from pycrdt import Text

from actors.store.service import STORE_ACTOR_NAME

from ..harness import Gateway, bearer, gateway_settings
from ..ray_logs import log_text, ray_logs
from ..services import RestartablePostgres, restartable_postgres
from .faults_load import (
    Agent,
    Editor,
    LoadStop,
    agent_totals,
    editor_totals,
    max_gap,
    report,
    stored_doc,
    unstored_props,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SESSIONS = 2
EDITORS_PER_SESSION = 10
EDIT_INTERVAL = 0.1
AGENT_INTERVAL = 0.05
CALL_TIMEOUT = 1.5  # REST calls answer 503 past this
DOWN_SECONDS = 4.0  # longer than the call timeout, so waiting REST calls must give up
SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


# Routes of the three APIs that need the store, probed while Postgres is down.
_PROBES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/sessions", {"name": "probe"}),
    ("GET", "/api/sessions", None),
    ("POST", "/api/programs", {"name": "P"}),
    ("GET", "/api/programs", None),
    ("GET", "/api/design-engine/sessions", None),
    ("POST", "/api/v1/projects", {"name": "Widget R&D", "fiscalYear": "2025", "description": "probe"}),
    ("GET", "/api/v1/projects", None),
]


async def _probe_routes(gw: Gateway) -> list[tuple[str, int, str | None]]:
    """Each store-backed route once: (route, status, Retry-After)."""
    assert gw.http is not None
    answers = []
    for method, path, body in _PROBES:
        async with gw.http.request(method, path, json=body, headers=bearer("ada")) as response:
            await response.read()
            answers.append((f"{method} {path}", response.status, response.headers.get("Retry-After")))
    return answers


async def test_postgres_blips_delay_acks_and_lose_nothing(ray_cluster: None, tmp_path: Path) -> None:
    with restartable_postgres() as pg:
        settings = gateway_settings(database_url=pg.dsn, data_dir=tmp_path / "data", hosts=2)
        gw = await Gateway(replace(settings, call_timeout=CALL_TIMEOUT)).start()
        try:
            await _blips_under_load(gw, pg, tmp_path)
        finally:
            await gw.stop()


async def _blips_under_load(gw: Gateway, pg: RestartablePostgres, tmp_path: Path) -> None:
    sessions = [await gw.create(spec=SPEC) for _ in range(SESSIONS)]
    url = f"{gw.ws_url}/ws"
    editors = [
        Editor(url, sid, f"e{s}x{i}", EDIT_INTERVAL)
        for s, sid in enumerate(sessions)
        for i in range(EDITORS_PER_SESSION)
    ]
    agents = [Agent(gw, sid, f"a{s}x", AGENT_INTERVAL) for s, sid in enumerate(sessions)]
    store = ray.get_actor(STORE_ACTOR_NAME, namespace=gw.settings.actors.namespace)
    pids = {int((await store.stats.remote())["pid"])} | {await gw.host_pid(sid) for sid in sessions}
    logs = ray_logs(pids)
    offsets = {path: path.stat().st_size for path in logs}

    stop = LoadStop()
    tasks = [asyncio.create_task(e.run(stop)) for e in editors]
    tasks += [asyncio.create_task(a.run(stop)) for a in agents]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.connected.wait() for e in editors)), 60)
        await stop.pause(1.0)
        killed = await asyncio.to_thread(pg.terminate_backends, gw.settings.storage.pg_application_name)
        await stop.pause(1.5)
        down = time.monotonic()
        await asyncio.to_thread(pg.stop, "fast")
        probed = asyncio.create_task(_probe_routes(gw))
        await stop.pause(DOWN_SECONDS)
        probes = await asyncio.wait_for(probed, 60)
        await asyncio.to_thread(pg.start)
        up = time.monotonic()
        await stop.pause(2.0)
    finally:
        stop.event.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    await asyncio.wait_for(asyncio.gather(*(e.drain() for e in editors)), 120)

    ack_times = [t for e in editors for t in e.ack_times]
    after_up = [t - up for t in ack_times if t > up]
    figures: dict[str, Any] = {
        **editor_totals(editors),
        **agent_totals(agents),
        "connections_terminated": killed,
        "postgres_down_s": round(up - down, 2),
        "ws_ack_max_pause_s": round(max_gap(ack_times), 2),
        "ws_first_ack_after_restart_s": round(min(after_up), 2) if after_up else None,
        "rest_first_200_after_restart_s": round(
            min((t - up for a in agents for t in a.ack_times if t > up), default=-1), 2
        ),
    }

    # Store-backed routes of every API answer 503 with Retry-After while the store is away, never 500.
    figures["probes_while_down"] = {route: status for route, status, _ in probes}
    assert all(status == 503 and retry_after == "1" for _, status, retry_after in probes), probes
    # Nothing surfaced but delay: no refusals, no closes, no 5xx other than 503 + Retry-After.
    assert figures["edits_refused"] == 0, figures
    assert figures["close_codes"] == [], figures
    assert figures["rest_server_errors"] == 0, figures
    assert figures["rest_other"] == {}, figures
    assert figures["rest_unavailable"] > 0, figures  # the outage outlasted the call timeout
    assert figures["rest_unavailable_without_retry_after"] == 0, figures
    assert killed > 0, figures
    assert after_up, figures
    assert figures["rest_first_200_after_restart_s"] >= 0, figures
    # Every WebSocket edit sent was acknowledged in the end, and every acknowledged one is stored.
    assert figures["edits_acked"] == figures["edits_sent"], figures
    lost = 0
    for sid in sessions:
        doc = await stored_doc(gw, sid)
        for editor in (e for e in editors if e.session_id == sid):
            stored = str(doc.get(editor.name, type=Text))
            lost += 0 if stored == editor.expected() else 1
            assert stored == editor.expected(), (editor.name, stored, editor.expected())
    for agent in agents:
        missing = await unstored_props(gw, agent)
        lost += len(missing)
        assert missing == [], missing
        assert agent.revisions == sorted(set(agent.revisions)), "revisions must advance"
    figures["acked_lost"] = lost

    # The blips were retried: logged as warnings, a traceback only when giving up (never here).
    by_file = log_text(logs, offsets)
    (tmp_path / "faults_postgres.log").write_text("".join(f"== {p.name}\n{t}" for p, t in by_file.items()))
    logged = "".join(by_file.values())
    lines = [line for line in logged.splitlines() if line.strip()]
    figures["log_lines"] = len(lines)
    figures["tracebacks_logged"] = logged.count("Traceback")
    report("faults_postgres", figures, tmp_path)
    # One warning per retry episode of each commit loop (each session's flusher, the group
    # committer): the outage is one episode, and each killed connection may fail one
    # transaction of its own. Retrying at a 10 ms .. 2 s backoff, one line per retry would be
    # about ten lines per loop for the outage alone.
    loops = SESSIONS + 1
    assert 0 < figures["log_lines"] <= loops * (killed + 1), f"see {tmp_path / 'faults_postgres.log'}"
    assert figures["tracebacks_logged"] == 0, f"see {tmp_path / 'faults_postgres.log'}"
