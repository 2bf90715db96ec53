"""OpenAIProvider over real HTTP against a scripted OpenAI-protocol server (tests/fakes)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from actors.engine.llm.events import Clarification, Finished, LlmEvent, TextDelta, ToolCall, ToolResult
from actors.engine.llm.openai_provider import OpenAIProvider
from actors.engine.llm.prompts import load_prompt
from actors.engine.llm.provider import StageRequest
from actors.engine.llm.schema import DraftingStage
from actors.engine.llm.tools import SearchFn, ToolRegistry
from actors.llm.errors import LlmError, LlmTimeout
from actors.llm.settings import LlmSettings
from tests.fakes.openai_server import FakeOpenAI, Fault, ScriptedToolCall, Turn
from tests.unit.engine.samples import requirement

pytestmark = pytest.mark.timeout(60)

BRIEF = "Design an electric go-kart for children ages 8-12"
# Every wait in these tests is bounded by this, far above what any step needs.
BOUND = 15.0


REQUIREMENTS = {"requirements": [requirement("req-1"), requirement("req-2", name="Child safety")]}


def _request(stage: DraftingStage = DraftingStage.REQUIREMENTS, **fields: Any) -> StageRequest:
    return StageRequest(stage, load_prompt(stage.value), BRIEF, **fields)


@asynccontextmanager
async def _provider(
    server: FakeOpenAI, *, search: SearchFn | None = None, **settings: Any
) -> AsyncIterator[OpenAIProvider]:
    values: dict[str, Any] = {
        "api_key": "sk-test",
        "base_url": server.base_url,
        "timeout": 5.0,
        "max_retries": 0,
    }
    provider = OpenAIProvider(LlmSettings(**{**values, **settings}), ToolRegistry(search))
    try:
        yield provider
    finally:
        await provider.aclose()


async def _collect(
    provider: OpenAIProvider, request: StageRequest, into: list[LlmEvent] | None = None
) -> list[LlmEvent]:
    events = into if into is not None else []

    async def run() -> None:
        async for event in provider.run(request):
            events.append(event)

    await asyncio.wait_for(run(), BOUND)
    return events


def _of(kind: type[Any], events: Sequence[LlmEvent]) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


async def test_streamed_text_arrives_as_several_deltas() -> None:
    turns = [Turn(text=["Based ", "on the ", "brief, ", "a kart."])]
    async with FakeOpenAI(turns) as server, _provider(server) as provider:
        events = await _collect(provider, _request())
    assert [event.text for event in _of(TextDelta, events)] == ["Based ", "on the ", "brief, ", "a kart."]
    assert events[-1] == Finished("Based on the brief, a kart.")
    (sent,) = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert (sent.body["model"], sent.body["stream"], sent.body["tool_choice"]) == (
        "gpt-4o-mini",
        True,
        "auto",
    )
    assert [tool["function"]["name"] for tool in sent.tools] == ["propose_requirements", "ask_clarification"]
    assert sent.messages[0] == {"role": "system", "content": load_prompt("requirements_drafting")}
    assert BRIEF in sent.messages[1]["content"]


async def test_split_tool_call_is_assembled_validated_and_finishes_the_stage() -> None:
    call = ScriptedToolCall("propose_requirements", REQUIREMENTS, call_id="call_req", pieces=9)
    async with (
        FakeOpenAI([Turn(text=["Drafting."], tool_calls=[call])]) as server,
        _provider(server) as provider,
    ):
        events = await _collect(provider, _request())
    assert [type(event) for event in events] == [TextDelta, ToolCall, ToolResult, Finished]
    assert events[1] == ToolCall("call_req", "propose_requirements", REQUIREMENTS)
    assert events[2] == ToolResult("call_req", "propose_requirements", REQUIREMENTS, None)
    assert events[3] == Finished("Proposed 2 requirements.")
    assert len(server.requests) == 1  # an accepted proposal ends the turn: no further round trip


async def test_malformed_calls_are_sent_back_until_a_good_one_is_accepted() -> None:
    bad_enum = {"requirements": [requirement("req-1", priority="urgent")]}
    turns = [
        Turn(tool_calls=[ScriptedToolCall("propose_requirements", '{"requirements": [', call_id="call_1")]),
        Turn(tool_calls=[ScriptedToolCall("propose_requirements", bad_enum, call_id="call_2")]),
        Turn(
            text=["Fixed."],
            tool_calls=[ScriptedToolCall("propose_requirements", REQUIREMENTS, call_id="call_3")],
        ),
    ]
    async with FakeOpenAI(turns) as server, _provider(server, max_tool_attempts=3) as provider:
        events = await _collect(provider, _request())
    results = _of(ToolResult, events)
    assert [result.call_id for result in results] == ["call_1", "call_2", "call_3"]
    assert results[0].result is None
    assert results[0].error is not None
    assert "arguments are not valid JSON" in results[0].error
    assert results[1].error == (
        "propose_requirements: requirements[0].priority: "
        "must be one of low, medium, high, critical; got 'urgent'"
    )
    assert results[2].error is None
    assert results[2].result == REQUIREMENTS
    assert _of(ToolCall, events)[0].args == {}  # unparsable arguments are never passed on
    assert events[-1] == Finished("Proposed 2 requirements.")
    # Each refusal went back to the model as the tool message answering its call.
    assert len(server.requests) == 3
    second, third = server.requests[1], server.requests[2]
    replayed = second.messages[-2]
    assert replayed["role"] == "assistant"
    assert replayed["tool_calls"][0]["id"] == "call_1"
    assert replayed["tool_calls"][0]["function"] == {
        "name": "propose_requirements",
        "arguments": '{"requirements": [',
    }
    (refusal,) = second.tool_messages()
    assert refusal["tool_call_id"] == "call_1"
    assert json.loads(refusal["content"])["error"] == results[0].error
    assert [json.loads(m["content"])["error"] for m in third.tool_messages()] == [
        results[0].error,
        results[1].error,
    ]


async def test_too_many_refusals_fail_the_turn() -> None:
    bad = ScriptedToolCall("propose_requirements", {"requirements": []})
    async with (
        FakeOpenAI([Turn(tool_calls=[bad]), Turn(tool_calls=[bad])]) as server,
        _provider(server, max_tool_attempts=2) as provider,
    ):
        events: list[LlmEvent] = []
        with pytest.raises(LlmError, match=r"2 invalid tool calls; last error: .*must have at least 1"):
            await _collect(provider, _request(), events)
    assert len(_of(ToolResult, events)) == 2
    assert len(server.requests) == 2


async def test_clarification_ends_the_turn_awaiting_the_answer() -> None:
    ask = ScriptedToolCall(
        "ask_clarification", {"question": "Indoor or outdoor?", "options": ["Indoor", "Outdoor"]}
    )
    turns = [Turn(text=["One question first."], tool_calls=[ask])]
    async with FakeOpenAI(turns) as server, _provider(server) as provider:
        events = await _collect(provider, _request())
    assert [type(event) for event in events] == [TextDelta, ToolCall, Clarification]
    question = events[-1]
    assert isinstance(question, Clarification)
    assert (question.question, question.options) == ("Indoor or outdoor?", ["Indoor", "Outdoor"])
    assert question.question_id.startswith("q-")
    assert len(server.requests) == 1


async def test_search_results_go_back_to_the_model_before_the_bom() -> None:
    events: list[LlmEvent] = []
    seen_before_search: list[LlmEvent] = []

    async def search(query: str) -> list[dict[str, Any]]:
        seen_before_search.extend(events)
        return [{"id": "item-9", "itemNumber": "P-1042", "name": f"{query} (stock)"}]

    root = {
        "tempId": "asm-1",
        "name": "Kart",
        "isNew": True,
        "quantity": 1,
        "partType": "Manufacture",
        "rationale": "top",
        "confidence": 1,
        "requirementTempIds": ["req-1", "req-2"],
        "children": [
            {
                "tempId": "prt-1",
                "name": "Screw",
                "isNew": False,
                "existingItemId": "item-9",
                "quantity": 8,
                "partType": "Purchase",
                "rationale": "reuse",
                "confidence": 0.9,
            }
        ],
    }
    turns = [
        Turn(tool_calls=[ScriptedToolCall("search_items", {"query": "M6 screw"}, call_id="call_s")]),
        Turn(text=["Reusing P-1042."], tool_calls=[ScriptedToolCall("propose_bom", {"rootAssembly": root})]),
    ]
    request = _request(DraftingStage.BOM, artifacts=REQUIREMENTS)
    async with FakeOpenAI(turns) as server, _provider(server, search=search) as provider:
        await _collect(provider, request, events)
    # The call is announced before the (possibly slow) search runs.
    assert seen_before_search[-1] == ToolCall("call_s", "search_items", {"query": "M6 screw"})
    assert [result.name for result in _of(ToolResult, events)] == ["search_items", "propose_bom"]
    assert isinstance(events[-1], Finished)
    assert "all requirements covered" in events[-1].summary
    (found,) = server.requests[1].tool_messages()
    assert json.loads(found["content"])["result"]["items"][0]["itemNumber"] == "P-1042"
    assert [tool["function"]["name"] for tool in server.requests[0].tools] == [
        "propose_bom",
        "search_items",
        "ask_clarification",
    ]
    assert '"tempId": "req-2"' in server.requests[0].messages[1]["content"]


async def test_hanging_server_times_out_within_the_configured_timeout() -> None:
    async with FakeOpenAI([Turn(fault=Fault.HANG)]) as server, _provider(server, timeout=0.5) as provider:
        started = time.monotonic()
        with pytest.raises(LlmTimeout, match=r"did not answer within 0\.5 s"):
            await _collect(provider, _request())
        assert time.monotonic() - started < 0.5 + 2.0


async def test_server_going_silent_mid_stream_times_out() -> None:
    turns = [Turn(text=["Start", "ed"], fault=Fault.STALL)]
    async with FakeOpenAI(turns) as server, _provider(server, timeout=0.5) as provider:
        events: list[LlmEvent] = []
        started = time.monotonic()
        with pytest.raises(LlmTimeout):
            await _collect(provider, _request(), events)
        assert time.monotonic() - started < 0.5 + 2.0
    assert [event.text for event in _of(TextDelta, events)] == ["Start", "ed"]


async def test_garbage_mid_stream_is_an_llm_error() -> None:
    async with (
        FakeOpenAI([Turn(text=["Hello"], fault=Fault.GARBAGE)]) as server,
        _provider(server) as provider,
    ):
        events: list[LlmEvent] = []
        with pytest.raises(LlmError, match="malformed data in the LLM stream") as caught:
            await _collect(provider, _request(), events)
    assert not isinstance(caught.value, LlmTimeout)
    assert _of(TextDelta, events) == [TextDelta("Hello")]


async def test_http_500_is_an_llm_error() -> None:
    async with FakeOpenAI([Turn(fault=Fault.HTTP_500)]) as server, _provider(server) as provider:
        with pytest.raises(LlmError, match="answered HTTP 500: The server had an error"):
            await _collect(provider, _request())
    assert len(server.requests) == 1  # max_retries=0


async def test_dropped_connection_is_an_llm_error() -> None:
    async with FakeOpenAI([Turn(text=["Hel"], fault=Fault.DROP)]) as server, _provider(server) as provider:
        with pytest.raises(LlmError, match=r"connection to the LLM .* failed during the stream"):
            await _collect(provider, _request())


async def test_unreachable_server_is_an_llm_error() -> None:
    server = await FakeOpenAI([]).start()
    await server.stop()  # nothing listens on its port any more
    async with _provider(server) as provider:
        with pytest.raises(LlmError, match=r"connection to the LLM .* failed during the request"):
            await _collect(provider, _request())


async def test_rounds_are_bounded() -> None:
    search = ScriptedToolCall("search_items", {"query": "bolt"})
    turns = [Turn(tool_calls=[search]), Turn(tool_calls=[search])]
    request = _request(DraftingStage.BOM, artifacts=REQUIREMENTS)
    async with FakeOpenAI(turns) as server, _provider(server, max_rounds=2) as provider:
        with pytest.raises(LlmError, match="did not complete bom_drafting within 2 rounds"):
            await _collect(provider, request)
    assert len(server.requests) == 2
