"""The transcript sent to the model: context, replayed tool calls and tool messages."""

from __future__ import annotations

import json

from actors.engine.llm.conversation import assistant_message, initial_messages, tool_message
from actors.engine.llm.events import Clarification, ToolResult
from actors.engine.llm.provider import ClarificationAnswer, StageRequest
from actors.engine.llm.schema import DraftingStage
from actors.llm.openai_stream import AssembledCall

from . import samples


def test_initial_messages_carry_everything_the_session_knows() -> None:
    request = StageRequest(
        DraftingStage.BOM,
        "SYSTEM",
        "An electric go-kart",
        {"requirements": [samples.requirement("req-7")]},
        user_messages=("use steel",),
        clarification_answers=(ClarificationAnswer("q-1", "Indoors?", "Outdoors"),),
        feedback="fewer parts",
    )
    system, user = initial_messages(request)
    assert system == {"role": "system", "content": "SYSTEM"}
    content = user["content"]
    assert user["role"] == "user"
    for fragment in [
        "An electric go-kart",
        '"tempId": "req-7"',
        "Q (q-1): Indoors?\n  A: Outdoors",
        "- use steel",
        "fewer parts",
        "`propose_bom`",
    ]:
        assert fragment in content
    assert request.requirement_ids == ("req-7",)


def test_requirements_stage_has_no_link_check() -> None:
    request = StageRequest(
        DraftingStage.REQUIREMENTS, "S", "brief", {"requirements": [samples.requirement()]}
    )
    assert request.requirement_ids is None
    assert "Current requirements draft" in initial_messages(request)[1]["content"]


def test_assistant_message_replays_the_calls() -> None:
    message = assistant_message(
        "", [AssembledCall("c1", "f", '{"a": 1}'), AssembledCall("c2", "g", "x", True)]
    )
    assert message == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ],
    }


def test_tool_messages() -> None:
    refused = tool_message(ToolResult("c1", "propose_requirements", None, "propose_requirements: x: bad"))
    assert refused["role"] == "tool"
    assert refused["tool_call_id"] == "c1"
    body = json.loads(refused["content"])
    assert body["ok"] is False
    assert body["error"] == "propose_requirements: x: bad"
    assert "Nothing was stored" in body["hint"]
    accepted = json.loads(
        tool_message(ToolResult("c2", "propose_requirements", samples.requirements_args(2)))["content"]
    )
    assert accepted == {"ok": True, "accepted": "Proposed 2 requirements."}
    found = json.loads(tool_message(ToolResult("c3", "search_items", {"query": "q", "items": []}))["content"])
    assert found == {"ok": True, "result": {"query": "q", "items": []}}
    asked = json.loads(
        tool_message(ToolResult("c4", "ask_clarification", Clarification("q-1", "Q?")))["content"]
    )
    assert asked["questionId"] == "q-1"
