"""An LLM endpoint that hangs or sends garbage mid-stream: the stage fails cleanly, and retry works.

One scripted OpenAI-protocol server (tests/fakes/openai_server.py) serves every design session
of the test in turn: for each fault, a first turn that breaks (a hang before any byte, a stall
after some text, garbage of several kinds after some text, a dropped connection), then the
turns of a good run. Each stage must end with an ``error`` event and ``done`` on its SSE
stream, the session ``failed`` with nothing half-parsed stored, the owner's live view of the
document showing ``failed``, and ``retry`` must complete the stage. Meanwhile Bridge editors
and an agent keep editing another session, undisturbed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map

from actors.llm.settings import LlmSettings

from ..engine_api import create_session, get_session, types
from ..fakes.openai_server import FakeOpenAI, Fault, ScriptedToolCall, Turn
from ..harness import Gateway, bearer, gateway_settings
from ..hocus_client import HocusClient
from ..sse import SseEvent, read_events
from ..unit.engine.samples import load_requirement
from .faults_load import Agent, Editor, LoadStop, agent_totals, editor_totals, report

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LLM_TIMEOUT = 1.5  # seconds per model read: a hang or a stall fails the stage past it
FAULTS = [
    Fault.HANG,
    Fault.STALL,
    Fault.GARBAGE,
    Fault.BINARY,
    Fault.WRONG_SHAPE,
    Fault.ERROR_CHUNK,
    Fault.DROP,
    Fault.HTTP_500,
]
EDITORS = 6
SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}
REQUIREMENTS = {"requirements": [load_requirement()]}


def _script() -> list[Turn]:
    turns: list[Turn] = []
    for fault in FAULTS:
        turns.append(Turn(text=["Reading ", "the brief"], fault=fault))
        turns.append(Turn(tool_calls=[ScriptedToolCall("propose_requirements", REQUIREMENTS)]))  # the retry
    return turns


async def _run(gw: Gateway, sid: str, action: str) -> tuple[int, list[SseEvent]]:
    assert gw.http is not None
    async with gw.http.post(
        f"/api/design-engine/sessions/{sid}/stream", json={"action": action}, headers=bearer("ada")
    ) as response:
        if response.status != 200:
            return response.status, []
        return 200, [event async for event in read_events(response)]


async def _watched_status(watcher: HocusClient, sid: str, wanted: str) -> None:
    """The owner's live view of the session's document reaches ``wanted`` (bounded)."""
    state = watcher.docs[sid]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while str(state.doc.get("artifacts", type=Map).get("status")) != wanted:
        state.changed.clear()
        assert loop.time() < deadline, f"the document's status never became {wanted!r}"
        try:
            await asyncio.wait_for(state.changed.wait(), deadline - loop.time())
        except TimeoutError:
            continue


async def test_a_hanging_or_garbling_llm_fails_the_stage_cleanly(ray_cluster: None, tmp_path: Path) -> None:
    async with FakeOpenAI(_script()) as server:
        llm = LlmSettings(api_key="k", base_url=server.base_url, max_retries=0, timeout=LLM_TIMEOUT)
        gw = await Gateway(gateway_settings(database_url=None, data_dir=tmp_path / "data", llm=llm)).start()
        try:
            figures = await _faults(gw, server)
        finally:
            await gw.stop()
    report("faults_llm", figures, tmp_path)


async def _faults(gw: Gateway, server: FakeOpenAI) -> dict[str, Any]:
    bridge = await gw.create(spec=SPEC)
    editors = [Editor(f"{gw.ws_url}/ws", bridge, f"e{i}", 0.1) for i in range(EDITORS)]
    agent = Agent(gw, bridge, "agent", 0.1)
    stop = LoadStop()
    tasks = [asyncio.create_task(e.run(stop)) for e in editors] + [asyncio.create_task(agent.run(stop))]
    failed_in: dict[str, float] = {}
    errors: dict[str, str] = {}
    try:
        await asyncio.wait_for(asyncio.gather(*(e.connected.wait() for e in editors)), 60)
        token = bearer("ada")["Authorization"].removeprefix("Bearer ")
        async with HocusClient(f"{gw.ws_url}/ws") as watcher:
            for fault in FAULTS:
                sid = await create_session(gw, "ada", "A wall shelf")
                await watcher.open(sid, token)
                started = time.monotonic()
                status, events = await _run(gw, sid, "start_requirements")
                failed_in[fault.value] = round(time.monotonic() - started, 2)
                assert status == 200, (fault, status)
                assert types(events)[-1] == "error", (fault, types(events))
                assert events[-1].event == "done", (fault, types(events))
                errors[fault.value] = str(events[-2].json().get("message") or events[-2].json())[:120]
                session = await get_session(gw, "ada", sid)
                assert session["status"] == "failed", (fault, session["status"])
                assert session["artifacts"]["requirements"] == [], fault  # nothing half-parsed stored
                await _watched_status(watcher, sid, "failed")
                status, events = await _run(gw, sid, "retry")
                assert status == 200, (fault, status)
                assert types(events)[-1] == "stage_complete", (fault, types(events))
                assert (await get_session(gw, "ada", sid))["artifacts"]["requirements"][0][
                    "name"
                ] == "Load", fault
    finally:
        stop.event.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    await asyncio.wait_for(asyncio.gather(*(e.drain() for e in editors)), 120)
    assert server.remaining_turns == 0  # every scripted turn was asked for: one failure, one retry each
    figures: dict[str, Any] = {
        **editor_totals(editors),
        **agent_totals([agent]),
        "faults": len(FAULTS),
        "llm_timeout_s": LLM_TIMEOUT,
        "stage_failed_after_s": failed_in,
        "error_messages": errors,
    }
    assert figures["edits_refused"] == 0, figures
    assert figures["close_codes"] == [], figures
    assert figures["edits_acked"] == figures["edits_sent"] > 0, figures
    assert figures["rest_acked"] == figures["rest_sent"] > 0, figures
    return figures
