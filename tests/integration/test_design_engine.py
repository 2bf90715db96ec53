"""The design engine through HTTP with real Ray and both stores: flows, OpenAI path, resume."""

from __future__ import annotations

import os
import signal

import pytest

from actors.llm.settings import LlmSettings

from ..engine_api import create_session, get_session, run_action, types
from ..fakes.openai_server import FakeOpenAI, Fault, ScriptedToolCall, Turn
from ..harness import Gateway, MakeGateway, bearer, wait_until
from ..sse import SseEvent, read_events
from ..unit.engine.samples import load_requirement

pytestmark = pytest.mark.integration


async def test_idle_to_bom_review_with_the_offline_provider(gateway: Gateway) -> None:
    sid = await create_session(gateway, "ada", "Design an electric go-kart for children ages 8-12")
    events = await run_action(gateway, "ada", sid, {"action": "start_requirements"})
    assert events[-1].event == "done"
    assert types(events)[-1] == "stage_complete"
    assert any("[offline" in e.json().get("text", "") for e in events if e.event == "stage_event")
    confirm = await gateway.request(
        "POST",
        f"/api/design-engine/sessions/{sid}/stream",
        json={"action": "confirm_requirements"},
        headers=bearer("ada"),
    )
    assert confirm[0] == 200
    assert confirm[1]["data"]["confirmed"] == "requirements"
    events = await run_action(gateway, "ada", sid, {"action": "start_bom"})
    assert types(events)[-2:] == ["stage_change", "stage_complete"]
    session = await get_session(gateway, "ada", sid)
    assert session["stage"] == "bom_review"
    assert session["status"] == "active"
    assert session["artifacts"]["bom"]["rootAssembly"]["children"]
    listed = await gateway.request("GET", "/api/design-engine/sessions", headers=bearer("ada"))
    assert sid in [s["id"] for s in listed[1]["data"]["sessions"]]


async def test_a_dropped_client_resumes_with_last_event_id(gateway: Gateway) -> None:
    sid = await create_session(gateway, "ada", "A weighted desk lamp")
    assert gateway.http is not None
    seen: list[SseEvent] = []
    async with gateway.http.post(
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "start_requirements"},
    ) as response:
        async for event in read_events(response):
            seen.append(event)
            if len(seen) == 3:
                break  # the client drops mid-stream; the run goes on in the session
    last = seen[-1].id
    async with gateway.http.get(
        f"/api/design-engine/sessions/{sid}/stream", headers={**bearer("ada"), "Last-Event-ID": str(last)}
    ) as response:
        rest = [event async for event in read_events(response)]
    async with gateway.http.get(
        f"/api/design-engine/sessions/{sid}/stream", headers=bearer("ada")
    ) as response:
        everything = [e for e in [event async for event in read_events(response)] if e.event == "stage_event"]
    got = [e for e in seen + rest if e.event == "stage_event"]
    assert [e.id for e in got] == [e.id for e in everything]  # none lost, none twice
    assert [e.data for e in got] == [e.data for e in everything]
    assert rest[-1].event == "done"
    # A client that cannot read SSE reads the same events as JSON, through the host's link.
    async with gateway.http.get(
        f"/api/design-engine/sessions/{sid}/events", params={"after": str(last)}, headers=bearer("ada")
    ) as response:
        assert response.status == 200, await response.text()
        page = (await response.json())["data"]
    after_last = [e for e in everything if int(str(e.id)) > int(str(last))]
    assert [e["id"] for e in page["events"]] == [int(str(e.id)) for e in after_last]
    assert [e["event"] for e in page["events"]] == [e.json() for e in after_last]


async def test_owner_scoping_and_401s(gateway: Gateway) -> None:
    sid = await create_session(gateway, "ada", "A garden bench")
    base = f"/api/design-engine/sessions/{sid}"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"description": "x"}),
        ("POST", base + "/stream", {"action": "start_requirements"}),
        ("GET", base + "/stream", None),
    ]:
        status, payload = await gateway.request(method, path, json=body, headers=bearer("bob"))
        assert status == 403, (method, path, payload)
        status, payload = await gateway.request(method, path, json=body)
        assert status == 401, (method, path, payload)
        assert payload["error"], (method, path, payload)
    assert (await gateway.request("GET", base.replace(sid, "0" * 36), headers=bearer("ada")))[0] == 404


async def test_the_openai_path_streams_text_and_tool_calls(make_gateway: MakeGateway) -> None:
    requirements = {
        "requirements": [
            {
                "tempId": "req-1",
                "name": "Top speed",
                "description": "Top speed shall not exceed 15 km/h",
                "requirementType": "Performance",
                "priority": "high",
                "verificationMethod": "Test",
                "rationale": "Child safety",
                "confidence": 0.9,
                "source": "ai",
            }
        ]
    }
    turns = [
        Turn(
            text=["Reading ", "the brief. "],
            tool_calls=[ScriptedToolCall("propose_requirements", requirements)],
        ),
        Turn(text=["Requirements drafted."]),
        Turn(text=["Done."]),
    ]
    async with FakeOpenAI(turns) as server:
        llm = LlmSettings(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=10)
        gw = await make_gateway(llm=llm)
        sid = await create_session(gw, "ada", "An electric go-kart")
        events = await run_action(gw, "ada", sid, {"action": "start_requirements"})
        texts = "".join(e.json().get("text", "") for e in events if e.event == "stage_event")
        assert "Reading the brief." in texts
        assert "[offline" not in texts
        assert "tool_call" in types(events)
        assert "tool_result" in types(events)
        assert types(events)[-1] == "stage_complete"
        session = await get_session(gw, "ada", sid)
        assert session["artifacts"]["requirements"][0]["name"] == "Top speed"
        assert server.requests
        assert server.requests[0].tools


async def test_a_failing_model_fails_the_stage_and_retry_works(make_gateway: MakeGateway) -> None:
    good = {"requirements": [load_requirement()]}
    turns = [
        Turn(text=["Thinking"], fault=Fault.HTTP_500),
        Turn(tool_calls=[ScriptedToolCall("propose_requirements", good)]),
        Turn(text=["ok"]),
    ]
    async with FakeOpenAI(turns) as server:
        gw = await make_gateway(
            llm=LlmSettings(api_key="k", base_url=server.base_url, max_retries=0, timeout=10)
        )
        sid = await create_session(gw, "ada", "A shelf")
        events = await run_action(gw, "ada", sid, {"action": "start_requirements"})
        assert types(events)[-1] == "error"
        assert events[-1].event == "done"
        session = await get_session(gw, "ada", sid)
        assert session["status"] == "failed"
        assert session["artifacts"]["requirements"] == []
        events = await run_action(gw, "ada", sid, {"action": "retry"})
        assert types(events)[-1] == "stage_complete"
        assert (await get_session(gw, "ada", sid))["artifacts"]["requirements"][0]["name"] == "Load"


async def test_a_killed_host_comes_back_with_committed_artifacts_and_a_resumable_run(
    make_gateway: MakeGateway,
) -> None:
    rack = {
        "requirements": [
            {
                "tempId": "req-1",
                "name": "Rack",
                "description": "Holds 4 bikes",
                "requirementType": "Functional",
                "priority": "high",
                "verificationMethod": "Test",
                "rationale": "r",
                "confidence": 1,
                "source": "ai",
            }
        ]
    }
    turns = [
        Turn(text=["Working on it"], fault=Fault.STALL),
        Turn(tool_calls=[ScriptedToolCall("propose_requirements", rack)]),
        Turn(text=["done"]),
    ]
    async with FakeOpenAI(turns) as server:
        gw = await make_gateway(
            llm=LlmSettings(api_key="k", base_url=server.base_url, max_retries=0, timeout=60)
        )
        sid = await create_session(gw, "ada", "A bike rack")
        assert gw.http is not None
        async with gw.http.post(
            f"/api/design-engine/sessions/{sid}/stream",
            headers=bearer("ada"),
            json={"action": "start_requirements"},
        ) as response:
            async for event in read_events(response):
                if event.event == "stage_event" and event.json()["type"] == "llm_text":
                    break  # the run is live and its text is committed
        before = await get_session(gw, "ada", sid)
        os.kill(await gw.host_pid(sid), signal.SIGKILL)
        after = await wait_until(
            lambda: gw.request("GET", f"/api/design-engine/sessions/{sid}", headers=bearer("ada")),
            lambda r: r[0] == 200,
            timeout=60,
        )
        session = after[1]["data"]["session"]
        assert session["stage"] == "requirements_drafting"
        assert session["artifacts"] == before["artifacts"]
        # The interrupted run is resumed (not lost, not left running forever).
        events = await run_action(gw, "ada", sid, {"action": "resume"})
        assert types(events)[-1] == "stage_complete"
        assert (await get_session(gw, "ada", sid))["artifacts"]["requirements"][0]["name"] == "Rack"


async def test_a_clarification_round_trip(gateway: Gateway) -> None:
    sid = await create_session(gateway, "ada", "Please clarify the size first: a shelf for a small room")
    events = await run_action(gateway, "ada", sid, {"action": "start_requirements"})
    assert types(events)[-2:] == ["artifact_update", "paused"]
    assert "clarification_needed" in types(events)
    question = next(
        e.json() for e in events if e.event == "stage_event" and e.json()["type"] == "clarification_needed"
    )
    session = await get_session(gateway, "ada", sid)
    assert session["status"] == "paused"
    assert session["artifacts"]["pendingClarificationId"] == question["questionId"]
    wrong = await gateway.request(
        "POST",
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "answer_clarification", "questionId": "nope", "answer": "x"},
    )
    assert wrong[0] == 400
    assert wrong[1]["field"] == "questionId"
    events = await run_action(
        gateway,
        "ada",
        sid,
        {"action": "answer_clarification", "questionId": question["questionId"], "answer": "80 cm, pine"},
    )
    assert types(events)[-1] == "stage_complete"
    session = await get_session(gateway, "ada", sid)
    assert session["stage"] == "requirements_review"
    assert "pendingClarificationId" not in session["artifacts"]
    assert session["artifacts"]["clarifications"][0]["answer"] == "80 cm, pine"
